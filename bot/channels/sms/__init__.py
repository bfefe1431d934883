"""SMS channel logic without Rasa: encoding and segments, numbered choices, gateway adapters, storage."""
