"""Document viewer URLs (pdf.js, CMS preview pages, kkFileView) resolve to the document they show."""
import base64
from urllib.parse import quote

import pytest
from parsel import Selector

from gikcrawl import discovery as d

PAGE = "http://www.x.gov.cn/zfxxgk/gknb/2023/art_1.html"


@pytest.mark.parametrize("href,doc", [
    # pdf.js: file= relative to the viewer page (as pdf.js resolves it), absolute path, or full URL
    ("/pdfjs/web/viewer.html?file=/upload/2023/x.pdf", "http://www.x.gov.cn/upload/2023/x.pdf"),
    ("/static/pdfjs/web/viewer.html?file=../../../upload/a.pdf", "http://www.x.gov.cn/upload/a.pdf"),
    ("/pdfjs/web/viewer.html?file=" + quote("/upload/2023/年报.pdf", safe=""),
     "http://www.x.gov.cn/upload/2023/年报.pdf"),
    ("/pdfjs/web/viewer.html?file=" + quote(quote("/upload/y.pdf", safe=""), safe=""),     # encoded twice
     "http://www.x.gov.cn/upload/y.pdf"),
    ("/pdfjs/web/viewer.html?file=http%3A%2F%2Ffile.x.gov.cn%2Fa%2Fb.pdf#page=2", "http://file.x.gov.cn/a/b.pdf"),
    ("viewer.html?file=files/r.pdf", "http://www.x.gov.cn/zfxxgk/gknb/2023/files/r.pdf"),
    # gov CMS preview pages with url= / path= / src= parameters
    ("/common/preview.jsp?url=/module/download/downfile.jsp?classid=0%26filename=r.docx",
     "http://www.x.gov.cn/module/download/downfile.jsp?classid=0&filename=r.docx"),
    ("/viewer.html?lang=zh&path=/uploadfiles/2024/01/r.xlsx", "http://www.x.gov.cn/uploadfiles/2024/01/r.xlsx"),
    ("/js/pdf/web/viewer.html?src=%2Fnb%2Fr.pdf", "http://www.x.gov.cn/nb/r.pdf"),
    ("/cms/showPdf.do?id=9&file=/att/9.pdf", "http://www.x.gov.cn/att/9.pdf"),
    # a viewer showing a document by an extensionless download URL
    ("/pdfjs/web/viewer.html?file=%2Fdownload%3Fid%3D77", "http://www.x.gov.cn/download?id=77"),
    # kkFileView: the URL base64-encoded, then percent-encoded
    ("http://preview.x.gov.cn/onlinePreview?url=" + quote(base64.b64encode(b"http://www.x.gov.cn/f/r.pdf").decode()),
     "http://www.x.gov.cn/f/r.pdf"),
])
def test_viewer_links_resolve_to_the_document(href, doc):
    html = f'<div><a href="{href}">青山县2023年政府信息公开工作年度报告</a></div>'
    viewer = d.urljoin(PAGE, href).split("#")[0]
    assert d.viewer_target(viewer) == doc
    for found in (d.attachment_links(Selector(text=html), PAGE), d.report_links(Selector(text=html), PAGE)):
        assert [(x.url, x.via) for x in found] == [(doc, viewer)]
    assert d.is_attachment_url(viewer)


@pytest.mark.parametrize("href", [
    "/search.html?url=/zfxxgk/index.html",             # not a viewer, not a document
    "/viewer.html?file=report",                        # a bare word, not a path
    "/pdfjs/web/viewer.html?file=javascript:alert(1)",
    "/pdfjs/web/viewer.html",                           # nothing to show
    "/art/2023/1/20/art_1.html?url=http://other.example/",
])
def test_non_viewer_links_are_left_alone(href):
    url = d.urljoin(PAGE, href)
    assert d.viewer_target(url) is None
    assert d.resolve_viewer(d.Link(url, "x")) == d.Link(url, "x")


def test_download_endpoint_with_a_file_parameter_is_the_document_itself():
    """download.jsp?filename=x.pdf answers with the file: it is fetched as is (no viewer to resolve)."""
    url = "http://www.x.gov.cn/module/download/downfile.jsp?classid=0&filename=2301.pdf"
    assert d.is_attachment_url(url)
    links = d.attachment_links(Selector(text=f'<a href="{url}">附件</a>'), PAGE)
    assert [(x.url, x.via) for x in links] == [(url, None)]
