"""config/sites.yaml: loading, validation errors that name file, site and key."""
import pytest

from gikcrawl.sites import DEFAULT_PATH, SiteConfigError, load_sites


def write(tmp_path, text):
    p = tmp_path / "sites.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_bundled_config_loads_with_the_five_seed_counties_and_demo():
    sites = load_sites(DEFAULT_PATH)
    assert {"weixi", "aketao", "hengnan", "guazhou", "linxi", "demo"} <= set(sites.sites)
    weixi = sites.get("weixi")
    assert weixi.allows("http://weixi.diqing.gov.cn/zfxxgk_weixi/gknb/bmxxgknb/t_weixi_a/202201/20220128_1.html")
    assert weixi.allows("http://www.weixi.gov.cn/x.html")
    assert not weixi.allows("http://www.qclgf.com/")


def test_minimal_entry_is_enough(tmp_path):
    sites = load_sites(write(tmp_path, "sites:\n  x:\n    name: X\n    start_urls: [http://a.gov.cn/gknb/]\n"
                                       "    allowed_domains: [a.gov.cn]\n"))
    assert sites.get("x").start_urls == ("http://a.gov.cn/gknb/",)
    assert sites.select("all") == [sites.get("x")]


@pytest.mark.parametrize("entry, expected", [
    ("    name: X\n    allowed_domains: [a.gov.cn]\n", "site 'x': missing required key 'start_urls'"),
    ("    name: X\n    start_urls: [a.gov.cn/gknb]\n    allowed_domains: [a.gov.cn]\n", "site 'x': start_urls.0"),
    ("    name: X\n    start_urls: [http://a.gov.cn/]\n    allowed_domains: [a.gov.cn]\n    rendr: true\n",
     "site 'x': Additional properties are not allowed ('rendr' was unexpected)"),
    ("    name: X\n    start_urls: [http://a.gov.cn/]\n    allowed_domains: [a.gov.cn]\n    render: sometimes\n",
     "site 'x': render:"),
    ("    name: X\n    start_urls: [http://b.gov.cn/]\n    allowed_domains: [a.gov.cn]\n",
     "site 'x': start_urls: http://b.gov.cn/ is outside allowed_domains"),
    ("    name: X\n    start_urls: [http://a.gov.cn/]\n    allowed_domains: [a.gov.cn]\n    title_exclude: ['(']\n",
     "site 'x': title pattern '('"),
    ("    name: X\n    start_urls: [http://a.gov.cn/]\n    allowed_domains: [a.gov.cn]\n"
     "    politeness: {concurrency: 0}\n", "site 'x': politeness.concurrency"),
])
def test_validation_errors_name_file_site_and_key(tmp_path, entry, expected):
    path = write(tmp_path, "sites:\n  x:\n" + entry)
    with pytest.raises(SiteConfigError) as e:
        load_sites(path)
    assert str(path) in str(e.value) and expected in str(e.value)


def test_unknown_site_lists_known_ones():
    with pytest.raises(SiteConfigError, match="unknown site 'nowhere'; known sites: aketao, demo, guazhou"):
        load_sites().get("nowhere")


def test_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(SiteConfigError, match="not valid YAML"):
        load_sites(write(tmp_path, "sites: [unclosed"))
    with pytest.raises(SiteConfigError, match="cannot read sites config"):
        load_sites(tmp_path / "none.yaml")
