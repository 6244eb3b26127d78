"""Channels: each turns its platform's payloads into `InboundEvent`s and sends `Outbound`s."""
