"""The safety screen: vital emergencies first, certain (tier 1) or possible (tier 2)."""
