// The Royal Borough of Kensington and Chelsea. Entra ids come from the environment: see
// docs/deploy.md ("Register the apps") for where each one is found.
using '../main.bicep'

param environmentName = 'kensington-and-chelsea'
param location = 'uksouth'
param serviceName = 'RBKC Family Services'
param safetyDutyPhone = readEnvironmentVariable('FAMILYSTORY_SAFETY_DUTY_PHONE')
param smsSender = 'RBKCFamily'
param staffTenantId = readEnvironmentVariable('FAMILYSTORY_STAFF_TENANT_ID')
param staffApiClientId = readEnvironmentVariable('FAMILYSTORY_STAFF_API_CLIENT_ID')
param familyTenantId = readEnvironmentVariable('FAMILYSTORY_FAMILY_TENANT_ID')
param familyAppClientId = readEnvironmentVariable('FAMILYSTORY_FAMILY_APP_CLIENT_ID')
// The audit seal key, given on the first deployment only (docs/deploy.md); empty later.
param auditSealKey = readEnvironmentVariable('FAMILYSTORY_AUDIT_SEAL_KEY', '')
param alertEmailAddress = readEnvironmentVariable('FAMILYSTORY_ALERT_EMAIL')
