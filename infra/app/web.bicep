// The web app (clients/web, a Vite build) on Azure Static Web Apps: static files only, no managed
// functions, no built-in authentication (the app signs in with MSAL and calls the Function App
// cross-origin). Its security headers, navigation fallback and caching rules travel with the
// build in staticwebapp.config.json; its /config.json is written at deployment by
// infra/hooks/web-config.sh. docs/deploy.md ("The web app") says why Static Web Apps and not the
// storage account's static website.
//
// Static Web Apps is offered in a few regions only (none in the UK); the region holds the
// resource's metadata, and the files are served from Microsoft's edge. The app holds no data:
// every record stays in the borough's region, behind the API.

@description('Name of the static web app.')
param name string

@description('Region of the static web app resource: one where Microsoft.Web/staticSites is offered.')
@allowed([
  'westeurope'
  'centralus'
  'eastus2'
  'westus2'
  'eastasia'
])
param location string

@description('Tags applied to the static web app.')
param tags object

// Not named skuName: Checkov matches module parameters across files by name, and would check
// this value as storage.bicep's skuName (a replication setting).
@description('Hosting plan: Standard for the SLA, private endpoints and more custom domains; Free for a trial.')
@allowed([
  'Standard'
  'Free'
])
param hostingPlan string = 'Standard'

@description('Custom domain the borough serves the app on, such as familystory.westminster.gov.uk, with a CNAME to the default host name already in DNS. Empty for none.')
param customDomain string = ''

resource site 'Microsoft.Web/staticSites@2023-12-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'web'
  })
  sku: {
    name: hostingPlan
    tier: hostingPlan
  }
  properties: {
    // Deployed by azd (the SWA CLI with the site's deployment token, fetched at deploy time and
    // never an output), not from a repository.
    provider: 'Custom'
    // No preview environments: each would be another origin, and the API's CORS lists only the
    // production one.
    stagingEnvironmentPolicy: 'Disabled'
    // The headers and routes of the build's staticwebapp.config.json apply.
    allowConfigFileUpdates: true
    // Family members and staff open it from their own phones and laptops.
    publicNetworkAccess: 'Enabled'
  }
}

// The platform issues and renews the certificate of the custom domain (managed TLS). Validation
// by CNAME: the record must point at the default host name before this deploys.
resource domain 'Microsoft.Web/staticSites/customDomains@2023-12-01' = if (!empty(customDomain)) {
  parent: site
  name: empty(customDomain) ? 'unused' : customDomain
  properties: {
    validationMethod: 'cname-delegation'
  }
}

@description('Name of the static web app.')
output name string = site.name

@description('Default host name of the static web app (<name>.<n>.azurestaticapps.net).')
output defaultHostname string = site.properties.defaultHostname

@description('Every origin the app is served from: the default host name, and the custom domain if any. The API and the media account allow exactly these.')
output origins array = concat([
  'https://${site.properties.defaultHostname}'
], empty(customDomain) ? [] : [
  'https://${customDomain}'
])

@description('The origin people open the app at: the custom domain if any, else the default host name.')
output url string = empty(customDomain) ? 'https://${site.properties.defaultHostname}' : 'https://${customDomain}'
