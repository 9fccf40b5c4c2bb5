import { cva, type VariantProps } from "class-variance-authority";
import * as React from "react";

import { cn } from "@/lib/utils";

const badgeVariants = cva("inline-flex items-center rounded-full border px-2 py-0.5 text-xs font-semibold", {
  variants: {
    tone: {
      neutral: "border-slate-300 bg-slate-100 text-slate-800",
      good: "border-green-700 bg-green-50 text-green-900",
      warn: "border-amber-700 bg-amber-50 text-amber-900",
      bad: "border-red-700 bg-red-50 text-red-900",
    },
  },
  defaultVariants: { tone: "neutral" },
});

export function Badge({
  className,
  tone,
  ...props
}: React.HTMLAttributes<HTMLSpanElement> & VariantProps<typeof badgeVariants>) {
  return <span className={cn(badgeVariants({ tone }), className)} {...props} />;
}
