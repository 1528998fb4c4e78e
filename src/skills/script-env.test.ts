import { describe, expect, it } from 'vitest';
import { SCRIPT_PATH, scriptEnv } from './script-env.ts';

describe('scriptEnv', () => {
  const dotenv = { CLAWDIE_HIVE_TOKEN: 'tok-secret', WEATHER_KEY: 'w-1' };

  it('holds the declared variables and PATH, nothing else of the .env or the agent', () => {
    const runtime = { HOME: '/home/clawdie', CLAWDIE_HIVE_TOKEN: 'x', PATH: '/evil' };
    expect(scriptEnv(['WEATHER_KEY', 'MISSING'], dotenv, runtime)).toEqual({
      PATH: SCRIPT_PATH,
      WEATHER_KEY: 'w-1',
    });
  });

  it("passes on the runtime's loader path, so a script run by the body's node finds its libraries", () => {
    const runtime = {
      LD_LIBRARY_PATH: '/usr/local/share/clawdie/runtime/usr/local/lib',
      LD_LIBRARY_PATH_RPATH: 'yes',
      LD_PRELOAD: '/tmp/evil.so',
    };
    expect(scriptEnv([], dotenv, runtime)).toEqual({
      PATH: SCRIPT_PATH,
      LD_LIBRARY_PATH: '/usr/local/share/clawdie/runtime/usr/local/lib',
      LD_LIBRARY_PATH_RPATH: 'yes',
    });
  });
});
