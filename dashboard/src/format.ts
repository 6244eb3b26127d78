// How values read on screen: temperature badges, pipeline names, money, times, score rules.
import type { LeadStatus, Money, ScoreRule, Temperature } from "./types";

export const TEMPERATURE_BADGE: Record<Temperature, { icon: string; label: string }> = {
  burning: { icon: "🔥", label: "burning" },
  hot: { icon: "🌶️", label: "hot" },
  warm: { icon: "☀️", label: "warm" },
  cold: { icon: "❄️", label: "cold" },
};

export const LANGUAGE_NAMES: Record<string, string> = {
  en: "English",
  fa: "فارسی",
  ar: "العربية",
  ru: "Русский",
};

/** Languages written right to left; their text is laid out that way whatever the page's. */
export const RTL_LANGUAGES = new Set(["fa", "ar"]);

export function statusLabel(status: LeadStatus | string): string {
  const text = status.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A decimal string grouped by thousands, never through a float (money stays exact). */
export function formatAmount(amount: string): string {
  const [whole = "0", fraction = ""] = amount.split(".");
  const sign = whole.startsWith("-") ? "-" : "";
  const digits = whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = /^0*$/.test(fraction) ? "" : `.${fraction}`;
  return `${sign}${digits}${cents}`;
}

export function formatMoney(money: Money | null): string {
  return money ? `${formatAmount(money.amount)} ${money.currency}` : "—";
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(iso: string | null): string {
  return iso ? timeFormat.format(new Date(iso)) : "—";
}

const RULES: Record<string, string> = {
  qr_scans: "QR scans",
  catalog_views: "Catalog views",
  messages: "Messages",
  voice: "Sent a voice message",
  phone: "Left a phone number",
  budget: "Gave a budget",
  transaction_type: "Buy, rent or invest",
  property_type: "Property type",
  location: "Area",
  payment_method: "Payment method",
};

export function ruleLabel(rule: ScoreRule): string {
  const recency = /^within_(\d+)h$/.exec(rule.rule);
  if (recency) return `Active within ${recency[1]} h`;
  const label = RULES[rule.rule] ?? statusLabel(rule.rule);
  return rule.count !== undefined ? `${label} × ${rule.count}` : label;
}

export function humanize(value: string | null | undefined): string {
  return value ? statusLabel(value) : "—";
}
