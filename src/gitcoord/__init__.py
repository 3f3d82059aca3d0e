"""gitcoord: several coding agents coordinating through JSON files kept in git."""
