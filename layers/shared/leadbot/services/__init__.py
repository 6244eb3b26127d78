"""Use cases wiring the pure core to stores and channels: inbound, telegram, admin."""
