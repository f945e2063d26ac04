// Parallel login guesses, as an attacker on the office LAN sends them: rounds of concurrent
// requests, each round sent at once, until every answer is a 429 that checked nothing.
type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

export interface StormTally {
  sent: number;
  /** Answers 401: a password was hashed and compared. */
  checked: number;
  /** 429 `throttled`: refused before any hashing because of a block. */
  throttled: number;
  /** 429 `busy`: refused because enough hashes were running already. */
  busy: number;
  /** 200: let in. */
  admitted: number;
  other: number;
}

export async function loginStorm(api: Api, guesses: (i: number) => { username: string; password: string }, opts: { rounds: number; perRound: number }): Promise<StormTally> {
  const t: StormTally = { sent: 0, checked: 0, throttled: 0, busy: 0, admitted: 0, other: 0 };
  for (let round = 0; round < opts.rounds; round++) {
    const answers = await Promise.all(
      Array.from({ length: opts.perRound }, (_v, k) => api('POST', '/api/v1/session', guesses(round * opts.perRound + k))),
    );
    for (const a of answers) {
      t.sent++;
      if (a.status === 401) t.checked++;
      else if (a.status === 429 && a.body?.error === 'throttled') t.throttled++;
      else if (a.status === 429 && a.body?.error === 'busy') t.busy++;
      else if (a.status === 200) t.admitted++;
      else t.other++;
    }
  }
  return t;
}
