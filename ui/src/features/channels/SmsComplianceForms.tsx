/**
 * The compliance form (sms-compliance-forms.tsx of the product page): one accordion section
 * per part of the 10DLC submission, each with its completion marker from the service's
 * `complianceProgress`, the preflight's findings beside their fields (with the provider's
 * codes), and yes/no questions that stay unanswered until answered.
 */
import { Accordion, AccordionContent, AccordionItem, AccordionTrigger } from "@/components/ui/accordion";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Textarea } from "@/components/ui/textarea";
import { type Draft, type Field, getField, SECTIONS, setField, type Value, yesNo } from "@/features/channels/complianceForm";
import type { Schemas } from "@/lib/api";

type Progress = Schemas["ComplianceProgressOut"];
type Finding = Schemas["FindingOut"];

export function SmsComplianceForms({
  draft,
  onChange,
  progress,
  findings = [],
  readOnly = false,
}: {
  draft: Draft;
  onChange: (draft: Draft) => void;
  progress: Progress | undefined;
  findings?: Finding[];
  readOnly?: boolean;
}) {
  return (
    <Accordion type="multiple" className="rounded-md border px-3">
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
  readOnly,
  onChange,
}: {
  field: Field;
  value: Value;
  findings: Finding[];
  readOnly: boolean;
  onChange: (value: Value) => void;
}) {
  const id = `field-${field.path.replace(/\./g, "-")}`;
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
        <Label htmlFor={id}>{field.label}</Label>
      )}
      {field.kind === "text" ? (
        <Input id={id} value={text} readOnly={readOnly} aria-describedby={findingId} onChange={(e) => onChange(e.target.value)} />
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
