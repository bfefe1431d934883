"""From a message to a level: understanding, the safety screen, the rules table, the dialogue; no I/O."""
