// The dashboard API's shapes, as openapi.json describes them (money is a decimal string).

export const TEMPERATURES = ["burning", "hot", "warm", "cold"] as const;
export type Temperature = (typeof TEMPERATURES)[number];

export const STATUSES = [
  "new",
  "qualifying",
  "qualified",
  "broker_requested",
  "assigned",
  "contacted",
  "viewing_scheduled",
  "negotiating",
  "won",
  "lost",
] as const;
export type LeadStatus = (typeof STATUSES)[number];

export const LANGUAGES = ["en", "fa", "ar", "ru"] as const;
export type Language = (typeof LANGUAGES)[number];

export interface Money {
  amount: string;
  currency: string;
}

export interface Engagement {
  qr_scans: number;
  catalog_views: number;
  messages: number;
  voice: number;
}

export interface LeadSummary {
  lead_id: string;
  name: string;
  username: string;
  phone: string | null;
  email: string | null;
  linkedin_url: string | null;
  channel: string;
  language: string | null;
  source: string | null;
  broker_id: string | null;
  status: LeadStatus;
  stage: string;
  score: number | null;
  temperature: Temperature | null;
  grade: string | null;
  goal: string | null;
  budget: Money | null;
  property_type: string | null;
  location: string | null;
  engagement: Engagement;
  created_at: string;
  last_interaction_at: string | null;
}

export interface ScoreRule {
  part: "engagement" | "qualification" | "recency";
  rule: string;
  points: number;
  count?: number;
}

export interface ScoreBreakdown {
  engagement?: number;
  qualification?: number;
  recency?: number;
  rules?: ScoreRule[];
}

export interface LeadDetail extends LeadSummary {
  timeline: string | null;
  bedrooms: string | null;
  payment_method: string | null;
  lost_reason: string | null;
  opted_out: boolean;
  unreachable: boolean;
  bot_paused: boolean;
  phone_captured_at: string | null;
  score_breakdown: ScoreBreakdown;
  scored_at: string | null;
  viewing_requested_at: string | null;
  qualification_score: number;
  is_qualified: boolean;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface TimelineItem {
  kind: "inbound" | "outbound" | "event";
  at: string;
  channel: string | null;
  text: string;
  detail: Record<string, string>;
  status: string | null;
}

export interface Broker {
  broker_id: string;
  name: string;
  phone: string;
  email: string;
  active: boolean;
  away: boolean;
  max_open_leads: number | null;
}

export interface MessageSent {
  status: string;
  message_id: string | null;
  bot_paused: boolean;
}

export interface Settings {
  languages: string[];
  default_language: string;
  flow_mode: string;
  qa_first_after: number;
  ghost_after_minutes: number;
  campaign_days: number[];
  quiet_hours_start: number;
  quiet_hours_end: number;
  followup_templates: Record<string, Record<string, string>>;
  scarcity_threshold: number;
  business_hours_start: number;
  business_hours_end: number;
  business_days: number[];
  handoff_sla_minutes: number;
  broker_commission_rate: string;
  platform_commission_rate: string;
  admin_chats: number;
  airtable_base_id: string | null;
  airtable_connected: boolean;
}

export const PROPERTY_TYPES = ["apartment", "villa", "townhouse", "penthouse", "office", "land"] as const;
export const BEDROOMS = ["studio", "1", "2", "3", "4+"] as const;
export const TRANSACTIONS = ["sale", "rent"] as const;

export interface Property {
  property_id: string;
  title: string;
  location: string;
  property_type: (typeof PROPERTY_TYPES)[number];
  transaction: (typeof TRANSACTIONS)[number];
  bedrooms: (typeof BEDROOMS)[number] | null;
  price: Money;
  size_sqft: string | null;
  units_available: number;
  status: "active" | "archived";
  brochure_ids: string[];
  description: string;
  image_url: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface BrochureUpload {
  brochure_id: string;
  upload_url: string;
  method: string;
  headers: Record<string, string>;
  expires_in: number;
}

export interface BrochureState {
  brochure_id: string;
  ingested: boolean;
  title: string | null;
  pages: number;
  chunks: number;
  /** corrupt, encrypted, no_text or too_big when its PDF could not be read; null otherwise */
  unreadable_reason: string | null;
  unreadable_message: string | null;
}

export interface BrokerFull extends Broker {
  telegram_chat_id: string | null;
  created_at: string;
}

export const DEAL_STATUSES = ["open", "won", "lost"] as const;
export type DealStatus = (typeof DEAL_STATUSES)[number];

export interface Deal {
  deal_id: string;
  lead_id: string;
  broker_id: string | null;
  status: DealStatus;
  currency: string;
  value: string;
  broker_commission_rate: string;
  platform_commission_rate: string;
  broker_commission: string;
  platform_commission: string;
  closed_at: string | null;
  created_at: string;
}

export interface CurrencyTotals {
  currency: string;
  deals: number;
  value: string;
  broker_commission: string;
  platform_commission: string;
}

export interface Revenue {
  items: { month: string; totals: CurrencyTotals[] }[];
}

export interface Stats {
  funnel: {
    conversations: number;
    qualified: number;
    broker_requested: number;
    viewing_scheduled: number;
    won: number;
  };
  temperatures: Record<string, number>;
  sources: Record<string, number>;
  speed_to_lead: {
    with_phone: number;
    handled: number;
    no_action_yet: number;
    median_minutes: number | null;
    within_5_minutes: number | null;
  };
  followups: Record<string, number>;
}

export interface AdminCode {
  code: string;
  expires_at: string;
}
