"""Reading text: articles and their sources, sentences, dates, casualty counts, place recognition and
resolution, and incidents. Imports geo.places."""
