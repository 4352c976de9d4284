import { describe, expect, it } from 'vitest';
import { parseEnv } from './env.js';
import { CniCode } from './errors.js';

const full = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc',
  CNI_NETNS: '/run/netns/x',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/a:/b',
};

describe('parseEnv', () => {
  it('reads the CNI variables', () => {
    const env = parseEnv({ ...full, CNI_ARGS: 'IgnoreUnknown=true;K8S_POD_NAME=web-1' });
    expect(env).toMatchObject({
      command: 'ADD',
      containerId: 'abc',
      netns: '/run/netns/x',
      ifname: 'eth0',
      path: ['/a', '/b'],
    });
    expect(env.args.get('K8S_POD_NAME')).toBe('web-1');
  });

  it('names every missing variable with code 4', () => {
    expect(() => parseEnv({ CNI_COMMAND: 'ADD' })).toThrow(
      expect.objectContaining({
        code: CniCode.InvalidEnvironment,
        message: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing',
      }),
    );
    expect(() => parseEnv({})).toThrow(
      expect.objectContaining({ code: 4, message: expect.stringContaining('CNI_COMMAND') }),
    );
  });

  it('lets DEL go without a netns and VERSION without anything', () => {
    expect(parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'a', CNI_IFNAME: 'eth0' }).netns).toBe('');
    expect(parseEnv({ CNI_COMMAND: 'VERSION' }).command).toBe('VERSION');
  });

  it.each([
    [{ CNI_COMMAND: 'FROB' }, 'CNI_COMMAND'],
    [{ CNI_CONTAINERID: '-x' }, 'CNI_CONTAINERID'],
    [{ CNI_IFNAME: 'a/b' }, 'CNI_IFNAME'],
    [{ CNI_IFNAME: 'sixteen-chars-xx' }, 'CNI_IFNAME'],
    [{ CNI_ARGS: 'novalue' }, 'CNI_ARGS'],
  ])('rejects %j naming %s', (patch, name) => {
    expect(() => parseEnv({ ...full, ...patch })).toThrow(
      expect.objectContaining({ code: CniCode.InvalidEnvironment, message: expect.stringContaining(name) }),
    );
  });
});
