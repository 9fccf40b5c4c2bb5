/** Toasts (Radix Toast) with a tiny store: ``toast({ title, description })`` from anywhere. */
import * as ToastPrimitive from "@radix-ui/react-toast";
import * as React from "react";

import { cn } from "@/lib/utils";

export interface ToastMessage {
  id: number;
  title: string;
  description?: string;
  tone?: "default" | "error";
}

type Listener = (toasts: ToastMessage[]) => void;
let toasts: ToastMessage[] = [];
let nextId = 1;
const listeners = new Set<Listener>();

function emit(): void {
  for (const listener of listeners) listener(toasts);
}

export function toast(message: Omit<ToastMessage, "id">): void {
  toasts = [...toasts, { ...message, id: nextId++ }];
  emit();
}

function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

export function Toaster() {
  const [current, setCurrent] = React.useState<ToastMessage[]>(toasts);
  React.useEffect(() => {
    listeners.add(setCurrent);
    return () => void listeners.delete(setCurrent);
  }, []);
  return (
    <ToastPrimitive.Provider duration={8000}>
      {current.map((t) => (
        <ToastPrimitive.Root
          key={t.id}
          onOpenChange={(open) => (open ? undefined : dismiss(t.id))}
          className={cn(
            "grid gap-1 rounded-md border bg-background p-4 pr-8 shadow-lg",
            t.tone === "error" && "border-destructive",
          )}
        >
          <ToastPrimitive.Title className="text-sm font-semibold">{t.title}</ToastPrimitive.Title>
          {t.description ? (
            <ToastPrimitive.Description className="text-sm">{t.description}</ToastPrimitive.Description>
          ) : null}
          <ToastPrimitive.Close aria-label="Dismiss" className="absolute right-2 top-2 px-1">
            ×
          </ToastPrimitive.Close>
        </ToastPrimitive.Root>
      ))}
      <ToastPrimitive.Viewport className="fixed bottom-0 right-0 z-50 flex w-96 max-w-full flex-col gap-2 p-4" />
    </ToastPrimitive.Provider>
  );
}
