// Test support: what a call threw or a promise rejected with, when it must be an instance of one
// error class (so a test can assert on its code, message and cause). Anything else thrown is
// rethrown as is; nothing thrown at all fails with "expected a <class name>".

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** Runs fn, which must throw an instance of `type`; returns it. */
export function thrownBy<E>(type: ErrorClass<E>, fn: () => unknown): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}

/** Awaits p, which must reject with an instance of `type`; returns it. */
export async function rejectionOf<E>(type: ErrorClass<E>, p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}
