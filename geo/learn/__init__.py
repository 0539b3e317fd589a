"""Learning from labelled data: readers, features, training, and the shipped models with their cards.
Imports geo.text and geo.places."""
