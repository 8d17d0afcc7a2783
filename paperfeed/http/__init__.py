"""Request plumbing shared by the pages (`web/`) and the JSON API (`api/`).

`session` says who is asking, `csrf` whether a state-changing request came from
this site, `guards` refuses what no route should see (unknown Host, oversized
URL or body). Both surfaces import it; it imports neither of them.
"""
