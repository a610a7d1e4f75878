"""Pure logic: SLOs, budgets, burn rates, alert windows. No I/O, no clocks read here."""
