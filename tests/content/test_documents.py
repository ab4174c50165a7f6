"""The article and legal texts as content: front matter, rendering, stable fingerprints."""

from service.content.documents import article, legal_texts, parse


def test_front_matter_and_markdown() -> None:
    doc = parse("---\ntitle: Hello: world\nslug: x\n---\n## Section\n\n- one\n- two\n")
    assert doc.meta == {"title": "Hello: world", "slug": "x"}
    assert "<h2>Section</h2>" in doc.html and doc.html.count("<li>") == 2


def test_raw_html_in_content_is_escaped() -> None:
    assert "<script>" not in parse("hello <script>alert(1)</script>").html


def test_landing_article_has_its_metadata() -> None:
    doc = article("stem-cell-stroke-belgium")
    assert doc.title.startswith("Belgium's Progress in Stem Cell Therapy")
    assert doc.destination == "Belgium"
    assert 'href="#quote"' in doc.html


def test_legal_texts_are_versioned_and_fingerprinted() -> None:
    texts = legal_texts()
    assert set(texts) == {"disclaimer", "health_data", "marketing"}
    assert len({t.sha256 for t in texts.values()}) == 3
    assert all(len(t.sha256) == 64 and t.version for t in texts.values())
    assert "facilitator" in texts["health_data"].body.lower()
