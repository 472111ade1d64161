"""Tax: jurisdictions of stacked components, computed by a pure engine (`engine.compute_tax`)."""
