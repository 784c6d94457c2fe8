/**
 * How loopwatch evaluates its own expressions on a thread (a stack capture, a source-map
 * lookup, a registration): the value returned by value, nothing printed to the console, and
 * never a stop at a breakpoint or a `debugger;` statement inside them.
 */
export function evaluateParams(expression: string): Readonly<Record<string, unknown>> {
  return {
    expression,
    returnByValue: true,
    silent: true,
    includeCommandLineAPI: false,
    generatePreview: false,
    disableBreaks: true,
  };
}
