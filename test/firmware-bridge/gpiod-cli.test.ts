import { describe, expect, it } from 'vitest';
import {
  getArgs,
  holdArgs,
  monArgs,
  parseDetect,
  parseGetOutput,
  parseMonLine,
  parseToolVersion,
  pulseCommand,
} from '../../firmware-bridge/gpiod-cli.ts';

describe('gpiod command lines', () => {
  it('reads the libgpiod version from every known --version format', () => {
    expect(parseToolVersion('gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski')).toMatchObject({ major: 1, minor: 6 });
    expect(parseToolVersion('gpioset (libgpiod) v2.1.3\n')).toMatchObject({ major: 2, minor: 1 });
    expect(parseToolVersion('gpioset v2.2.1 (libgpiod v2.2.1)')).toMatchObject({ major: 2, minor: 2 });
    expect(parseToolVersion('command not found')).toBeNull();
  });

  it('holds a relay line with --mode=signal on 1.6 and until killed (with a banner) on 2.x', () => {
    expect(holdArgs(1, 'gpiochip0', 17, 1)).toEqual(['--mode=signal', 'gpiochip0', '17=1']);
    expect(holdArgs(2, 'gpiochip0', 17, 1)).toEqual(['--banner', '-c', 'gpiochip0', '17=1']);
  });

  it('bounds the pulse inside the tool, then holds the line locked again', () => {
    const v1 = pulseCommand(1, 'gpiochip3', 4, 1, 0, 1400);
    expect(v1.cmd).toBe('sh');
    expect(v1.args[1]).toBe(
      "gpioset '--mode=time' '--sec=1' '--usec=400000' 'gpiochip3' '4=1'; echo \"pulse-exit $?\"; exec gpioset '--mode=signal' 'gpiochip3' '4=0'",
    );
    const v2 = pulseCommand(2, 'gpiochip0', 21, 0, 1, 400);
    expect(v2.args[1]).toBe(
      "gpioset '--banner' '-t' '400ms,0' '-c' 'gpiochip0' '21=0'; echo \"pulse-exit $?\"; exec gpioset '--banner' '-c' 'gpiochip0' '21=1'",
    );
  });

  it('spells the pull resistor the way each version wants it', () => {
    expect(getArgs(1, 'gpiochip2', [0, 1], 'up')).toEqual(['--bias=pull-up', 'gpiochip2', '0', '1']);
    expect(getArgs(1, 'gpiochip2', [0], 'none')).toEqual(['--bias=disable', 'gpiochip2', '0']);
    expect(getArgs(2, 'gpiochip2', [0, 1], 'down')).toEqual(['--bias', 'pull-down', '-c', 'gpiochip2', '0', '1']);
    expect(getArgs(2, 'gpiochip2', [0], 'none')).toEqual(['--bias', 'disabled', '-c', 'gpiochip2', '0']);
  });

  it('asks gpiomon 1.6 for line-buffered output (it writes into a pipe) and 2.x for edge names', () => {
    expect(monArgs(1, 'gpiochip2', [3, 4], 'up')).toEqual(['--line-buffered', '--bias=pull-up', '--format=%o %e', 'gpiochip2', '3', '4']);
    expect(monArgs(2, 'gpiochip2', [3, 4], 'up')).toEqual(['--banner', '--bias', 'pull-up', '--format', '%o %E', '-c', 'gpiochip2', '3', '4']);
  });

  it('parses gpioget output of both versions', () => {
    expect(parseGetOutput('1 0 1\n', [5, 6, 7])).toEqual([1, 0, 1]);
    expect(parseGetOutput('"5"=active "6"=inactive "7"=active\n', [5, 6, 7])).toEqual([1, 0, 1]);
    expect(parseGetOutput('5=inactive 6=active\n', [5, 6])).toEqual([0, 1]);
    expect(() => parseGetOutput('1\n', [5, 6])).toThrow(/1 values for 2 lines/);
  });

  it('parses edges of both versions into the level after the edge', () => {
    expect(parseMonLine('3 1')).toEqual({ offset: 3, level: 1 });
    expect(parseMonLine('3 0')).toEqual({ offset: 3, level: 0 });
    expect(parseMonLine('12 rising')).toEqual({ offset: 12, level: 1 });
    expect(parseMonLine('12 falling')).toEqual({ offset: 12, level: 0 });
    expect(parseMonLine('event:  RISING EDGE offset: 17 timestamp: [1588.1]')).toBeNull();
  });

  it('reads gpiodetect', () => {
    const out = 'gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\ngpiochip2 [mcp23017] (16 lines)\n';
    expect(parseDetect(out)).toEqual([
      { name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58 },
      { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lines: 8 },
      { name: 'gpiochip2', label: 'mcp23017', lines: 16 },
    ]);
  });
});
