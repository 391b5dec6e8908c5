"""Campaigns, training sessions and the KPI snapshots computed from them."""
