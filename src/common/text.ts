/** The wording shared by every message loopwatch writes about a value or a failure. */

/** The message of a thrown value, whatever was thrown. */
export function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/** The stack of a thrown value when it has one (for faults in loopwatch itself), else its message. */
export function stackOf(thrown: unknown): string {
  return thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
}

/** `` `thresholdMs` must be a finite number ≥ 1, got -5 ``: what was expected and what came. */
export function mustBe(subject: string, expected: string, got: string): string {
  return `${subject} must be ${expected}, got ${got}`;
}
