"""Streamlit front: layout and widgets only; every step is a call into `geo`."""
from pathlib import Path

import streamlit as st

import geo

ARTICLES = Path(__file__).resolve().parent / "data" / "articles"

st.set_page_config(page_title="Incident atlas", layout="wide")
st.title("Incident atlas")
st.caption("Places named in news articles, found and resolved offline.")

samples = sorted(ARTICLES.glob("*.txt"))
choice = st.selectbox("Sample article", [p.name for p in samples] + ["Paste text"])
if choice == "Paste text":
    text = st.text_area("Article text", height=200)
else:
    text = (ARTICLES / choice).read_text(encoding="utf-8")

if text.strip():
    doc = geo.extract(text)
    rows = [p.as_json() for p in doc.places]
    st.subheader(f"{len(rows)} place mentions")
    st.dataframe(rows, use_container_width=True)
    with st.expander("Article text"):
        st.text(text)

st.caption("Gazetteer: [GeoNames](https://www.geonames.org/) (CC BY 4.0); division centroids: "
           "countrystatecity-countries (ODbL 1.0).")
