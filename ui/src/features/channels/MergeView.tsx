/**
 * "Someone saved in between": the compliance form was saved by someone else after you read
 * it (the PUT answered 412). Their version beside yours, field by field; merge (their
 * version with your changes on top) or reload (theirs, dropping yours). Never a silent
 * overwrite.
 */
import { Button } from "@/components/ui/button";
import { type Draft, getField, labelOf, mergeDrafts, type Value } from "@/features/channels/complianceForm";

function show(value: Value): string {
  if (value === null || value === "") return "(empty)";
  if (value === true) return "Yes";
  if (value === false) return "No";
  return value;
}

export function MergeView({
  base,
  mine,
  theirs,
  onMerge,
  onReload,
}: {
  base: Draft;
  mine: Draft;
  theirs: Draft;
  onMerge: (merged: Draft) => void;
  onReload: () => void;
}) {
  const { merged, conflicts, differing } = mergeDrafts(base, mine, theirs);
  return (
    <section role="alertdialog" aria-labelledby="merge-title" aria-describedby="merge-text" className="rounded-md border border-amber-700 bg-amber-50 p-4">
      <h3 id="merge-title" className="font-semibold">
        Someone saved in between
      </h3>
      <p id="merge-text" className="text-sm">
        The compliance form changed since you opened it. Nothing of yours was saved yet. Compare, then merge your
        changes into their version or reload theirs.
      </p>
      <table className="mt-3 w-full text-sm" aria-label="Their version and yours">
        <thead>
          <tr className="text-left">
            <th scope="col" className="p-1">Field</th>
            <th scope="col" className="p-1">Theirs</th>
            <th scope="col" className="p-1">Yours</th>
          </tr>
        </thead>
        <tbody>
          {differing.map((path) => (
            <tr key={path} className="border-t align-top" data-testid="merge-row">
              <th scope="row" className="p-1 text-left font-medium">
                {labelOf(path)}
                {conflicts.includes(path) ? <span className="ml-1 text-xs text-red-900">(both changed)</span> : null}
              </th>
              <td className="p-1 whitespace-pre-wrap">{show(getField(theirs, path))}</td>
              <td className="p-1 whitespace-pre-wrap">{show(getField(mine, path))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="mt-3 flex gap-2">
        <Button onClick={() => onMerge(merged)}>Merge my changes into theirs</Button>
        <Button variant="outline" onClick={onReload}>
          Reload theirs
        </Button>
      </div>
    </section>
  );
}
