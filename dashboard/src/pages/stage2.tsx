// The listings, brokers, deals and analytics pages: their paths and nav labels, in nav order.
import type { VNode } from "preact";
import type { Session } from "../auth";
import { Analytics } from "./Analytics";
import { Brokers } from "./Brokers";
import { Deals } from "./Deals";
import { Listings } from "./Listings";

export const STAGE2_PAGES: Record<string, { label: string; render: (session: Session) => VNode }> = {
  "/listings": { label: "Listings", render: (session) => <Listings session={session} /> },
  "/deals": { label: "Deals", render: () => <Deals /> },
  "/brokers": { label: "Brokers", render: (session) => <Brokers session={session} /> },
  "/analytics": { label: "Analytics", render: () => <Analytics /> },
};
