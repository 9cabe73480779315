// The order names are shown in: natural order, so `chain-2` comes before `chain-10`
// (plain string order would put it after). Nothing else belongs here.

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Compares two names with their runs of digits as numbers: `step-2` < `step-10`. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
