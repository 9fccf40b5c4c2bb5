/** A small client-side router over the History API: the console has three pages. */
import * as React from "react";

export const BASE = "/app";

function currentPath(): string {
  const path = window.location.pathname;
  return path.startsWith(BASE) ? path.slice(BASE.length) || "/" : path;
}

const listeners = new Set<() => void>();

export function navigate(to: string): void {
  window.history.pushState(null, "", BASE + to);
  for (const listener of listeners) listener();
}

export function usePath(): string {
  const [path, setPath] = React.useState(currentPath);
  React.useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return path;
}

export function Link({
  to,
  children,
  ...props
}: { to: string } & Omit<React.AnchorHTMLAttributes<HTMLAnchorElement>, "href">) {
  return (
    <a
      href={BASE + to}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(to);
      }}
      {...props}
    >
      {children}
    </a>
  );
}
