"""LeadBot: capture, qualify and follow up property-buyer leads (the shared layer package)."""
