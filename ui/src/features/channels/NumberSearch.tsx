/**
 * The numbers on offer (Get a new number): Area code and Search numbers, then the numbers found
 * in a select that says where the search stands (Search first, Searching…, No numbers on offer
 * here, Choose a number) and the search's problem in words. One component for the Add channel
 * wizard's Connect step and the settings dialog's Replace number; the caller keeps the area
 * code searched and the number chosen (both go into its request body).
 */
import { useQuery } from "@tanstack/react-query";
import * as React from "react";

import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { api, type CountryCode, orThrow, problemText } from "@/lib/api";

export function NumberSearch({
  idPrefix,
  countryCode,
  areaCodeSearch = true,
  initialAreaCode = "",
  numberLabel,
  searched,
  onSearch,
  number,
  onNumber,
}: {
  /** Ids of the Area code input and the number select: `${idPrefix}area`, `${idPrefix}number`. */
  idPrefix: string;
  countryCode: CountryCode;
  /** Whether the country's numbers can be searched by area code (countries list). */
  areaCodeSearch?: boolean;
  initialAreaCode?: string;
  numberLabel: string;
  /** The area code last searched ("" for any); null before the first search. */
  searched: string | null;
  onSearch: (areaCode: string) => void;
  number: string;
  onNumber: (number: string) => void;
}) {
  const [areaCode, setAreaCode] = React.useState(searched ?? initialAreaCode);
  const numbers = useQuery({
    queryKey: ["numbers", countryCode, searched],
    enabled: searched !== null,
    queryFn: async () =>
      orThrow(
        await api.GET("/channels/sms/numbers", {
          params: { query: { countryCode, areaCode: searched || null, limit: 20 } },
        }),
      ).numbers,
  });
  return (
    <>
      <form
        className="flex items-end gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          onSearch(areaCode.trim());
        }}
      >
        <div className="grid flex-1 gap-1.5">
          <Label htmlFor={`${idPrefix}area`}>Area code</Label>
          <Input
            id={`${idPrefix}area`}
            inputMode="numeric"
            value={areaCode}
            onChange={(e) => setAreaCode(e.target.value)}
            disabled={!areaCodeSearch}
            placeholder="415"
          />
        </div>
        <Button type="submit" variant="outline">
          Search numbers
        </Button>
      </form>
      <div className="grid gap-1.5">
        <Label htmlFor={`${idPrefix}number`}>{numberLabel}</Label>
        <Select value={number} onValueChange={onNumber} disabled={!numbers.data?.length}>
          <SelectTrigger id={`${idPrefix}number`} aria-label={numberLabel}>
            <SelectValue
              placeholder={
                numbers.isFetching
                  ? "Searching…"
                  : searched === null
                    ? "Search first"
                    : numbers.data?.length === 0
                      ? "No numbers on offer here"
                      : "Choose a number"
              }
            />
          </SelectTrigger>
          <SelectContent>
            {(numbers.data ?? []).map((n) => (
              <SelectItem key={n.phoneNumber} value={n.phoneNumber}>
                {n.phoneNumber}
                {n.locality ? ` · ${n.locality}` : ""}
              </SelectItem>
            ))}
          </SelectContent>
        </Select>
        {numbers.isError ? (
          <p role="alert" className="text-sm text-destructive">
            {problemText(numbers.error)}
          </p>
        ) : null}
      </div>
    </>
  );
}
