#!/usr/bin/env bash
# tests/simulator/check-render.sh OLD_SIM NEW_SIM: do two upstream-sim
# binaries serve the same bytes? A developer check for changes to the page
# rendering or the generator (not run by ctest): build the old binary first,
# e.g. from a worktree of main, then run this with both.
#
# Each binary serves four datasets: --generate 5000 --seed 1, demo.json,
# render-edge.json (escaping, number formats, key spellings, nested values,
# missing lookups, an attributes url cut inside a UTF-8 character) and
# --generate 300 merged with demo.json and POST /_sim/data changes. For each
# it saves every page of a set of ZOQL queries (query + queryMore) and SOQL
# queries (query + nextRecordsUrl), the resellerd select lists and odd ones
# (case, repeats, relationship fields, missing fields), small and large
# batches, plus a few GETs, --dump-generated and --emit-partners-csv. The
# random cursor ids in queryLocator / nextRecordsUrl and the random ids of
# the GET answers are normalized; then the two trees are compared (diff -r).
# Needs curl and jq. Exit 0 when every body is identical.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD_SIM NEW_SIM" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/check-render.XXXXXX)
PID=
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

start() { # start NAME ARGS...: serve, log in to both APIs
	local name=$1 port=
	shift
	DIR=$OUT/$name
	N=0
	mkdir -p "$DIR"
	"$SIM" --port 0 "$@" >"$WORK/sim.out" 2>"$DIR/sim.err" &
	PID=$!
	for _ in $(seq 1 500); do
		port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/sim.out" | cut -d: -f2 || true)
		[ -n "$port" ] && break
		sleep 0.01
	done
	B=http://127.0.0.1:$port
	ZT=$(curl -sf -d 'client_id=zuora-client&client_secret=zuora-secret&grant_type=client_credentials' \
		"$B/oauth/token" | jq -r .access_token)
	ST=$(curl -sf -d 'grant_type=client_credentials&client_id=sf-client&client_secret=sf-secret' \
		"$B/services/oauth2/token" | jq -r .access_token)
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }
save() { # save KIND: the last body, random ids normalized
	N=$((N + 1))
	sed -E 's/"queryLocator":"[0-9a-f]{32}-/"queryLocator":"LOC-/; s#/query/01g[0-9a-f]{15}-#/query/01gCURSOR-#;
		s/"processId":"[0-9A-F]{16}"/"processId":"P"/; s/"requestId":"[^"]*"/"requestId":"R"/' \
		"$WORK/raw" >"$DIR/$(printf %04d $N)-$1"
}
zq() { # zq BATCH ZOQL: query, then queryMore to the end
	local body loc
	body=$(jq -nc --arg q "$2" --argjson b "$1" '{queryString: $q, conf: {batchSize: $b}}')
	curl -s -o "$WORK/raw" -w '%{http_code}\n' -H "Authorization: Bearer $ZT" \
		-H 'Content-Type: application/json' -d "$body" "$B/v1/action/query" >>"$DIR/status"
	save zq
	while loc=$(jq -r '.queryLocator // empty' "$WORK/raw" 2>/dev/null) && [ -n "$loc" ]; do
		curl -s -o "$WORK/raw" -w '%{http_code}\n' -H "Authorization: Bearer $ZT" \
			-H 'Content-Type: application/json' -d "{\"queryLocator\":\"$loc\"}" \
			"$B/v1/action/queryMore" >>"$DIR/status"
		save zqm
	done
}
sq() { # sq BATCH SOQL: query, then nextRecordsUrl to the end
	local next
	curl -s -o "$WORK/raw" -w '%{http_code}\n' -G --data-urlencode "q=$2" \
		-H "Authorization: Bearer $ST" -H "Sforce-Query-Options: batchSize=$1" \
		"$B/services/data/v59.0/query" >>"$DIR/status"
	save sq
	while next=$(jq -r '.nextRecordsUrl // empty' "$WORK/raw" 2>/dev/null) && [ -n "$next" ]; do
		curl -s -o "$WORK/raw" -w '%{http_code}\n' -H "Authorization: Bearer $ST" \
			-H "Sforce-Query-Options: batchSize=$1" "$B$next" >>"$DIR/status"
		save sqm
	done
}
get() { # get PATH (Zuora)
	curl -s -o "$WORK/raw" -H "Authorization: Bearer $ZT" "$B$1"
	save get
}

ACC='select Id, AccountNumber, Name, Status, PartnerAccount, CrmId, ParentId, SoldToId, BillToId, UpdatedDate, SSPChannel__c from Account'
CON='select Id, AccountId, FirstName, LastName, WorkEmail, UpdatedDate from Contact'
SUB='select Id, Name, AccountId, InvoiceOwnerId, Status, Version, IsLatestVersion, TermStartDate, TermEndDate, CreatedById, UpdatedDate, SSPChannel__c from Subscription'
QUO='SELECT Id, Name, zqu__Status__c, zqu__Subscription_Name__c, zqu__ZuoraSubscriptionID__c, zqu__ZuoraAccountID__c, zqu__InvoiceOwnerId__c, zqu__InvoiceOwnerName__c, zqu__Account__c, zqu__Opportunity__c, Resale_Partner__c, Distributor__c, Required_Approvals_From_VP_of_Channel__c, IsDeleted, SystemModstamp FROM zqu__Quote__c'
OPP='SELECT Id, OpportunityId, AccountToId, AccountTo.Name, Role, IsPrimary, SystemModstamp FROM OpportunityPartner'
common() { # common ZOQL_BATCH SOQL_BATCH
	zq "$1" "$ACC"
	zq "$1" "$CON"
	zq "$1" "$SUB"
	zq "$1" "$ACC where UpdatedDate >= '2024-01-02T00:00:00+00:00'"
	zq "$1" 'select id, NAME, partneraccount, Foo__c, createddate, currency, batch from account where PartnerAccount = true'
	zq "$1" 'select Name, Version, IsLatestVersion, Status from Subscription where IsLatestVersion = false'
	sq "$2" "$QUO ORDER BY SystemModstamp"
	sq "$2" "$QUO WHERE SystemModstamp >= 2024-01-01T12:00:00Z ORDER BY SystemModstamp"
	sq "$2" "$OPP ORDER BY SystemModstamp"
	sq "$2" 'select id, zqu__Account__r.Name, zqu__Opportunity__r.Name, zqu__account__r.Name, Owner.Name, Opportunity.Name, zqu__Account__r.Id, Resale_Partner__c, Nope__c from zqu__Quote__c limit 7'
	sq "$2" 'SELECT AccountTo.Name, AccountTo.Id, Id, accountto.name FROM OpportunityPartner WHERE IsPrimary = true'
}

capture() { # capture SIM OUT
	SIM=$1
	OUT=$2
	start gen5000 --generate 5000 --seed 1
	common 2000 500
	zq 7 "$CON where UpdatedDate >= '2024-01-01T10:00:00Z'"
	get '/v1/subscriptions/A-S00000004?getInvoiceOwnerDetails=true&getSubscriptionOwnerDetails=true'
	get /v1/subscriptions/A-S00000013
	get /v1/accounts/A00000001
	stop
	"$SIM" --generate 5000 --seed 1 --dump-generated "$OUT/gen5000/dump.json"
	"$SIM" --generate 20000 --seed 3 --dump-generated "$OUT/gen5000/dump20000.json" \
		--emit-partners-csv "$OUT/gen5000/partners20000.csv"

	start demo --data "$HERE/demo.json" --sf-min-batch 2
	common 3 2
	zq 2000 "$ACC"
	sq 2000 "$QUO"
	get '/v1/subscriptions/A-S00000003?getInvoiceOwnerDetails=true'
	stop

	start edge --data "$HERE/render-edge.json" --sf-min-batch 2
	common 2 2
	zq 2000 'select Id, Name, Num__c, Big__c, Neg__c, Tiny__c, Huge__c, Tenth__c, Arr__c, Obj__c, Zero__c, Info.X, CrmId, Status from Account'
	zq 2000 'select Id, FirstName, LastName, Country from Contact'
	zq 2000 'select Id, Version__c, SSPChannel__c from Subscription'
	sq 2000 'SELECT Id, Name, attributes, Amount__c, zqu__Account__r.Name, zqu__Account__r.Extra, zqu__Account__r.Foo, Owner.Name, zqu__Opportunity__r.Name FROM zqu__Quote__c'
	sq 2000 'SELECT zqu__Account__r.attributes, zqu__Account__r.Name, Id FROM zqu__Quote__c'
	sq 2000 'SELECT zqu__Account__r.Name, zqu__Account__r, Id FROM zqu__Quote__c'
	sq 2000 'SELECT zqu__Account__r, zqu__Account__r.Name, Id FROM zqu__Quote__c'
	sq 2000 'SELECT Owner.Name, Owner, OwnerId FROM zqu__Quote__c'
	sq 2000 'SELECT AccountTo.Name, AccountTo.Id, AccountToId FROM OpportunityPartner'
	stop

	"$SIM" --generate 300 --seed 7 --dump-generated "$WORK/mixed.json"
	start mixed --generate 300 --seed 7 --data "$HERE/demo.json" --sf-min-batch 2
	curl -sf -o /dev/null -d '{"zuora":{"subscriptions":[{"Id":"8a8aa0b0000000000000000000000003","Status":"Cancelled","UpdatedDate":"2030-01-01T00:00:00Z"}],"accounts":[{"Id":"8a8aa0a0000000000000000000000003","Name":"Renamed SAS","UpdatedDate":"2030-01-01T00:00:00Z"}]},"salesforce":{"quotes":[{"Id":"a0xDn0000000002AAA","Resale_Partner__c":"New P","SystemModstamp":"2030-01-01T00:00:00.000+0000"}]}}' "$B/_sim/data"
	curl -sf -o /dev/null -d "{\"zuora\":{\"accounts\":[{\"Id\":\"$(jq -r '.zuora.accounts[5].Id' "$WORK/mixed.json")\",\"Name\":\"x\"}]}}" "$B/_sim/data"
	common 500 200
	stop
}

capture "$1" "$WORK/old"
capture "$2" "$WORK/new"
if diff -r "$WORK/old" "$WORK/new" >"$WORK/diff"; then
	echo "identical: $(find "$WORK/new" -type f | wc -l) files ($(cat "$WORK"/new/*/status | sort | uniq -c | xargs))"
else
	head -c 4000 "$WORK/diff"
	echo
	echo "DIFFERENT (diff -r above, cut)" >&2
	exit 1
fi
