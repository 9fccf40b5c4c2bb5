/**
 * Read-your-writes: the highest event-log position a command of this tab answered with.
 * Queries pass it as `waitFor`, so a read after a command shows that command's change.
 */
import * as React from "react";

let position = 0;
const listeners = new Set<() => void>();

export function notePosition(value: number | null | undefined): void {
  if (typeof value === "number" && value > position) {
    position = value;
    for (const listener of listeners) listener();
  }
}

export function useWaitFor(): number | undefined {
  const value = React.useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    () => position,
  );
  return value > 0 ? value : undefined;
}
