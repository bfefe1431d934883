"""Tests of bot/directory/: importer, communes, hours, search and its index."""
