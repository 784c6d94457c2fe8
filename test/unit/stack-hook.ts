/**
 * Saves Error.prepareStackTrace as it is (a hook, undefined, or no property at all) and returns
 * the function that puts exactly that back, for tests that install their own hook.
 */
export function saveStackHook(): () => void {
  const saved = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
  return () => {
    if (saved === undefined) Reflect.deleteProperty(Error, 'prepareStackTrace');
    else Object.defineProperty(Error, 'prepareStackTrace', saved);
  };
}
