"""Services shared by the GUI and the CLI: domain rules applied to the store."""
