/**
 * The compliance form (sms-compliance-forms.tsx of the product page): one accordion section
 * per part of the 10DLC submission, each with its completion marker from the service's
 * `complianceProgress`, the preflight's findings beside their fields (with the provider's
 * codes), and yes/no questions that stay unanswered until answered. The open sections can be
 * held by the caller (the registration timeline opens a reason's field's section).
 */
import { Accordion, AccordionContent, AccordionItem, AccordionTrigger } from "@/components/ui/accordion";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Textarea } from "@/components/ui/textarea";
import {
  type Draft,
  type Field,
  getField,
  requiredByDraft,
  SECTIONS,
  setField,
  type Value,
  yesNo,
} from "@/features/channels/complianceForm";
import { inputIdOf } from "@/features/channels/registrationWords";
import type { Schemas } from "@/lib/api";

type Progress = Schemas["ComplianceProgressOut"];
type Finding = Schemas["FindingOut"];

export function SmsComplianceForms({
  draft,
  onChange,
  progress,
  findings = [],
  readOnly = false,
  open,
  onOpenChange,
}: {
  draft: Draft;
  onChange: (draft: Draft) => void;
  progress: Progress | undefined;
  findings?: Finding[];
  readOnly?: boolean;
  /** The open sections, when the caller holds them. */
  open?: string[];
  onOpenChange?: (open: string[]) => void;
}) {
  const held = open !== undefined && onOpenChange !== undefined ? { value: open, onValueChange: onOpenChange } : {};
  return (
    <Accordion type="multiple" className="rounded-md border px-3" {...held}>
      {SECTIONS.map((section) => {
        const state = progress?.sections.find((s) => s.name === section.name);
        const complete = state?.complete ?? false;
        const missing = state?.missing.length ?? 0;
        return (
          <AccordionItem key={section.name} value={section.name}>
            <AccordionTrigger>
              <span>{section.title}</span>
              <span
                className={complete ? "ml-auto text-xs text-green-900" : "ml-auto text-xs text-muted-foreground"}
                data-testid={`marker-${section.name}`}
              >
                {complete ? "✓ Complete" : missing ? `${missing} to fill in` : "Not started"}
              </span>
            </AccordionTrigger>
            <AccordionContent className="grid gap-3 md:grid-cols-2">
              {section.fields.map((field) => (
                <FieldInput
                  key={field.path}
                  field={field}
                  value={getField(draft, field.path)}
                  findings={findings.filter((f) => f.field === field.path)}
                  required={requiredByDraft(draft, field.path)}
                  readOnly={readOnly}
                  onChange={(value) => onChange(setField(draft, field.path, value))}
                />
              ))}
            </AccordionContent>
          </AccordionItem>
        );
      })}
    </Accordion>
  );
}

function FieldInput({
  field,
  value,
  findings,
  required,
  readOnly,
  onChange,
}: {
  field: Field;
  value: Value;
  findings: Finding[];
  required: boolean;
  readOnly: boolean;
  onChange: (value: Value) => void;
}) {
  const id = inputIdOf(field.path);
  const findingId = findings.length ? `${id}-findings` : undefined;
  const text = typeof value === "string" ? value : "";
  const wide = field.kind === "textarea" ? "md:col-span-2" : "";
  return (
    <div className={`grid gap-1.5 ${wide}`}>
      {field.kind === "accept" ? (
        <div className="flex items-center gap-2">
          <Checkbox
            id={id}
            checked={value === true}
            disabled={readOnly}
            aria-describedby={findingId}
            onCheckedChange={(checked) => onChange(checked === true ? true : null)}
          />
          <Label htmlFor={id}>{field.label}</Label>
        </div>
      ) : (
        <Label htmlFor={id}>
          {field.label}
          {required ? <span className="ml-1 text-xs font-normal text-red-900">(required for political messages)</span> : null}
        </Label>
      )}
      {field.kind === "text" ? (
        <Input
          id={id}
          value={text}
          readOnly={readOnly}
          required={required}
          aria-describedby={findingId}
          {...(field.secret ? { autoComplete: "off", spellCheck: false, "data-secret": "" } : {})}
          onChange={(e) => onChange(e.target.value)}
        />
      ) : field.kind === "textarea" ? (
        <Textarea id={id} value={text} readOnly={readOnly} aria-describedby={findingId} onChange={(e) => onChange(e.target.value)} />
      ) : field.kind === "select" ? (
        <Select value={text || undefined} disabled={readOnly} onValueChange={(v) => onChange(v)}>
          <SelectTrigger id={id} aria-describedby={findingId}>
            <SelectValue placeholder="Not chosen" />
          </SelectTrigger>
          <SelectContent>
            {(field.options ?? []).map((option) => (
              <SelectItem key={option} value={option}>
                {option.replace(/_/g, " ").toLowerCase()}
              </SelectItem>
            ))}
          </SelectContent>
        </Select>
      ) : field.kind === "yesno" ? (
        <Select
          // A remount when cleared, so an unanswered question shows its placeholder again.
          key={yesNo(value) ?? "unanswered"}
          value={yesNo(value)}
          disabled={readOnly}
          onValueChange={(v) => onChange(v === "yes")}
        >
          <SelectTrigger id={id} aria-describedby={findingId}>
            <SelectValue placeholder="Not answered" />
          </SelectTrigger>
          <SelectContent>
            <SelectItem value="yes">Yes</SelectItem>
            <SelectItem value="no">No</SelectItem>
          </SelectContent>
        </Select>
      ) : null}
      {findings.length ? (
        <ul id={findingId} className="text-xs" data-testid="finding">
          {findings.map((f) => (
            <li key={f.rule} className={f.severity === "error" ? "text-red-900" : "text-amber-900"}>
              {f.severity === "error" ? "Error" : "Warning"}: {f.message}
              {f.providerCodes.length ? ` (provider code ${f.providerCodes.join(", ")})` : ""}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
