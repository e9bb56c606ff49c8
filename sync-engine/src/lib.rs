//! sync-engine: the Exchange calendar integration (client, sync, subscriptions, presence, slots, API).
