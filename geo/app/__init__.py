"""The dashboard's parts: map layers and page views. Imports geo.store."""
