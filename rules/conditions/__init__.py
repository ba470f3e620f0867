"""Rule conditions: one small class per concept, listed in `registry.CONDITIONS`."""
