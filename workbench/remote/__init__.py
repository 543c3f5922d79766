"""Remote actions over SSH and WinRM: recipes, jobs, credentials (not built yet)."""
