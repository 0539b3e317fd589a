"""Places: the offline GeoNames gazetteer, name keys, geopy geocoders and distances. Imports nothing else of geo."""
