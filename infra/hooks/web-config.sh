#!/bin/sh
# Writes the web app's runtime configuration into its build (azd's prepackage hook of the web
# service, after `npm run build`, before the files are deployed; or by hand before deploying
# clients/web/dist any other way):
#   - dist/config.json, which the app fetches at start: the API's address, the two sign-ins
#     (client id, authority, scope) and the longest a device may stay offline;
#   - dist/staticwebapp.config.json, whose Content-Security-Policy names any Function App, blob
#     endpoint and External ID tenant (the build cannot know which): narrowed here to this
#     borough's API origin, media blob endpoint and External ID tenant.
# Every value is checked against the form it must have, and nothing is written if one is wrong.
#
# Needs, from the environment or, under azd, the azd environment:
#   API_BASE_URL MEDIA_BLOB_URL (outputs of infra/main.bicep)
#   FAMILYSTORY_STAFF_TENANT_ID FAMILYSTORY_STAFF_API_CLIENT_ID FAMILYSTORY_STAFF_WEB_CLIENT_ID
#   FAMILYSTORY_FAMILY_TENANT_ID FAMILYSTORY_FAMILY_APP_CLIENT_ID FAMILYSTORY_FAMILY_TENANT_SUBDOMAIN
# and optionally FAMILYSTORY_FAMILY_WEB_CLIENT_ID (the family app registration by default),
# FAMILYSTORY_WEB_MAX_OFFLINE_DAYS (14 by default) and FAMILYSTORY_WEB_DIST (the build folder,
# clients/web/dist by default). docs/deploy.md ("The web app") says where each value comes from.
set -eu

lookup() {
  eval "current=\${$1:-}"
  if [ -z "$current" ] && command -v azd >/dev/null 2>&1; then
    current=$(azd env get-value "$1" 2>/dev/null) || current=''
  fi
  printf '%s' "$current"
}

fail() {
  echo "web-config: $*" >&2
  exit 1
}

# value NAME PATTERN DESCRIPTION [DEFAULT]: the value, which must match the extended regular
# expression PATTERN in full.
value() {
  current=$(lookup "$1")
  if [ -z "$current" ]; then
    [ $# -ge 4 ] || fail "$1 is not set ($3)"
    current=$4
  fi
  if ! printf '%s\n' "$current" | grep -Eqx "$2" || [ "$(printf '%s\n' "$current" | wc -l)" -ne 1 ]; then
    fail "$1 must be $3"
  fi
  printf '%s' "$current"
}

guid='[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
host='[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+'

api=$(value API_BASE_URL "https://$host/api/v1" "the API's https address ending in /api/v1 (an output of infra/main.bicep)")
media=$(value MEDIA_BLOB_URL "https://$host/?" "the media account's https blob endpoint (an output of infra/main.bicep)")
staff_tenant=$(value FAMILYSTORY_STAFF_TENANT_ID "$guid" "the workforce tenant id")
staff_api=$(value FAMILYSTORY_STAFF_API_CLIENT_ID "$guid" "the staff API registration's client id")
staff_web=$(value FAMILYSTORY_STAFF_WEB_CLIENT_ID "$guid" "the client id of the web app's registration in the workforce tenant")
family_tenant=$(value FAMILYSTORY_FAMILY_TENANT_ID "$guid" "the External ID tenant id")
family_api=$(value FAMILYSTORY_FAMILY_APP_CLIENT_ID "$guid" "the family app registration's client id")
family_web=$(value FAMILYSTORY_FAMILY_WEB_CLIENT_ID "$guid" "the client id of the web app's registration in the External ID tenant" "$family_api")
subdomain=$(value FAMILYSTORY_FAMILY_TENANT_SUBDOMAIN '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?' "the External ID tenant's subdomain (<subdomain>.ciamlogin.com)")
days=$(value FAMILYSTORY_WEB_MAX_OFFLINE_DAYS '[1-9]|[1-8][0-9]|90' "a whole number of days from 1 to 90" 14)

here=$(cd "$(dirname "$0")" && pwd)
dist=$(lookup FAMILYSTORY_WEB_DIST)
dist=${dist:-$here/../../clients/web/dist}
headers="$dist/staticwebapp.config.json"
[ -f "$dist/index.html" ] && [ -f "$headers" ] ||
  fail "$dist holds no built web app with its staticwebapp.config.json (npm run build -w clients/web)"

api_origin=$(printf '%s' "$api" | sed -E 's|^(https://[^/]+)/.*$|\1|')
media_origin=$(printf '%s' "$media" | sed -E 's|/$||')
ciam="https://$subdomain.ciamlogin.com"

for wildcard in 'https://\*\.azurewebsites\.net' 'https://\*\.blob\.core\.windows\.net' 'https://\*\.ciamlogin\.com'; do
  grep -q "$wildcard" "$headers" || fail "$headers has no $wildcard in its Content-Security-Policy to narrow (narrowed already? build again: npm run build -w clients/web)"
done

config=$(mktemp "$dist/.config.json.XXXXXX")
narrowed=$(mktemp "$dist/.staticwebapp.config.json.XXXXXX")
trap 'rm -f "$config" "$narrowed"' EXIT

cat >"$config" <<EOF
{
  "apiBaseUrl": "$api",
  "signIn": "entra",
  "staff": {
    "clientId": "$staff_web",
    "authority": "https://login.microsoftonline.com/$staff_tenant",
    "scopes": ["api://$staff_api/access_as_user"]
  },
  "family": {
    "clientId": "$family_web",
    "authority": "$ciam/$family_tenant",
    "scopes": ["api://$family_api/access_as_user"]
  },
  "maxOfflineDays": $days
}
EOF

sed -e "s|https://\*\.azurewebsites\.net|$api_origin|g" \
  -e "s|https://\*\.blob\.core\.windows\.net|$media_origin|g" \
  -e "s|https://\*\.ciamlogin\.com|$ciam|g" "$headers" >"$narrowed"

chmod 644 "$config" "$narrowed"
mv "$config" "$dist/config.json"
mv "$narrowed" "$headers"
trap - EXIT

echo "web-config: $dist/config.json written for $api; the Content-Security-Policy names $api_origin, $media_origin and $ciam"
