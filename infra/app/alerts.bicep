// What wakes the borough's on-call engineer: an action group (e-mail, and a webhook if given),
// log alerts on Application Insights, metric alerts on Cosmos DB and Event Grid, and a standard
// availability test of /health/ready from five locations. Every alert has a severity and a
// one-line description; docs/operations.md says, alert by alert, what it means, the Kusto query
// to look with and what to do (tests/infra/test_alerts.py checks both ways).
//
// The log alerts read what the app itself writes (shared/telemetry.py): every HTTP answer is one
// "http <method> <function> -> <status>" log record, every failure an exception record carrying
// familystory.function, and the timers log one summary per run. Those are exported unsampled;
// only successful traces' spans are sampled.

@description('Prefix of the alert, action group and availability test names.')
param namePrefix string

@description('Azure region of the log alerts and the availability test.')
param location string

@description('Tags applied to the alerting resources.')
param tags object

@description('Name of the Application Insights component the log alerts query.')
param appInsightsName string

@description('Default host name of the Function App, whose /api/v1/health/ready the availability test calls.')
param functionHostName string

@description('Name of the Cosmos DB account watched for throttling and availability.')
param cosmosAccountName string

@description('Name of the Event Grid system topic that delivers upload events to the upload queue.')
param mediaEventsTopicName string

@description('E-mail address of the borough\'s on-call engineers, which every alert notifies.')
param alertEmailAddress string

@description('HTTPS webhook every alert also calls (Teams, PagerDuty, a ticketing system), in the common alert schema. Empty for none.')
@secure()
param alertWebhookUrl string = ''

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource mediaEvents 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' existing = {
  name: mediaEventsTopicName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-oncall'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'fs-oncall'
    enabled: true
    emailReceivers: [
      {
        name: 'on-call'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
    webhookReceivers: empty(alertWebhookUrl) ? [] : [
      {
        name: 'webhook'
        serviceUri: alertWebhookUrl
        useCommonAlertSchema: true
      }
    ]
  }
}

// Log alerts: one entry per alert. measure is the query's column the threshold applies to;
// dimensions split an alert into one per value (one alert per failing function).
var logAlerts = [
  {
    name: 'http-5xx-rate'
    severity: 1
    description: 'More than 5% of HTTP answers in 15 minutes were 5xx (at least 5 of them): requests are failing.'
    frequency: 'PT5M'
    window: 'PT15M'
    measure: 'failedPercent'
    operator: 'GreaterThan'
    threshold: 5
    dimensions: []
    query: '''
traces
| where message startswith "http " and isnotempty(customDimensions["familystory.function"])
| extend status = toint(customDimensions["status"])
| summarize answers = count(), failed = countif(status >= 500)
| where failed >= 5
| extend failedPercent = 100.0 * failed / answers
'''
  }
  {
    name: 'function-failures'
    severity: 2
    description: 'A function failed in the last 15 minutes (an error answered 500, or one a timer, queue or Event Grid run raised); one alert per function.'
    frequency: 'PT5M'
    window: 'PT15M'
    measure: 'failures'
    operator: 'GreaterThan'
    threshold: 0
    dimensions: [
      {
        name: 'function'
        operator: 'Include'
        values: [
          '*'
        ]
      }
    ]
    query: '''
exceptions
| extend function = tostring(customDimensions["familystory.function"])
| where isnotempty(function)
| summarize failures = count() by function
'''
  }
  {
    name: 'reminders-not-running'
    severity: 1
    description: 'The reminder timer (reminders_send_due) has not run for 15 minutes: no visit reminders are going out.'
    frequency: 'PT5M'
    window: 'PT15M'
    measure: 'runs'
    operator: 'LessThan'
    threshold: 1
    dimensions: []
    query: '''
union
    (traces | where tostring(customDimensions["familystory.function"]) == "reminders_send_due"),
    (exceptions | where tostring(customDimensions["familystory.function"]) == "reminders_send_due"),
    (requests | where name == "reminders_send_due" or operation_Name == "reminders_send_due")
| summarize runs = count()
'''
  }
  {
    name: 'reminders-failing'
    severity: 2
    description: 'Reminder texts failed for good (rejected, or attempts exhausted) or their outcome is unknown, in the last 15 minutes.'
    frequency: 'PT5M'
    window: 'PT15M'
    measure: 'failed'
    operator: 'GreaterThan'
    threshold: 0
    dimensions: []
    query: '''
traces
| where tostring(customDimensions["familystory.function"]) == "reminders_send_due" and message startswith "reminders:"
| summarize failed = sum(toint(customDimensions["failed"])) + sum(toint(customDimensions["outcome_unknown"]))
'''
  }
  {
    name: 'media-rejected'
    severity: 3
    description: 'More than 5 uploads were rejected in an hour (unreadable or oversized files, malware found, processing given up).'
    frequency: 'PT15M'
    window: 'PT1H'
    measure: 'rejected'
    operator: 'GreaterThan'
    threshold: 5
    dimensions: []
    query: '''
traces
| where message == "media upload rejected" or tostring(customDimensions["outcome"]) == "rejected"
| summarize rejected = dcount(tostring(customDimensions["media_id"]))
'''
  }
  {
    name: 'uploads-poison'
    severity: 2
    description: 'An upload message failed its last attempt and went to the media-uploads-poison queue.'
    frequency: 'PT5M'
    window: 'PT15M'
    measure: 'poisoned'
    operator: 'GreaterThan'
    threshold: 0
    dimensions: []
    query: '''
traces
| where message == "media: upload message goes to the poison queue" or message has "media-uploads-poison"
| summarize poisoned = count()
'''
  }
]

resource logAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in logAlerts: {
  name: '${namePrefix}-${alert.name}'
  location: location
  tags: tags
  properties: {
    displayName: '${namePrefix} ${alert.name}'
    description: alert.description
    severity: alert.severity
    enabled: true
    evaluationFrequency: alert.frequency
    windowSize: alert.window
    scopes: [
      appInsights.id
    ]
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Total'
          metricMeasureColumn: alert.measure
          operator: alert.operator
          threshold: alert.threshold
          dimensions: alert.dimensions
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}]

resource cosmosThrottled 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-cosmos-throttled'
  location: 'global'
  tags: tags
  properties: {
    description: 'Cosmos DB answered more than 20 requests with 429 (too many requests) in 15 minutes: the app retries them, but callers wait and some get 503.'
    severity: 2
    enabled: true
    scopes: [
      cosmos.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'throttled'
          metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
          metricName: 'TotalRequests'
          dimensions: [
            {
              name: 'StatusCode'
              operator: 'Include'
              values: [
                '429'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 20
          timeAggregation: 'Count'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource cosmosAvailability 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-cosmos-availability'
  location: 'global'
  tags: tags
  properties: {
    description: 'Cosmos DB served less than 99.9% of requests successfully over the last hour (its ServiceAvailability metric).'
    severity: 1
    enabled: true
    scopes: [
      cosmos.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'availability'
          metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
          metricName: 'ServiceAvailability'
          operator: 'LessThan'
          threshold: 99.9
          timeAggregation: 'Average'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource uploadsDeadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-uploads-dead-lettered'
  location: 'global'
  tags: tags
  properties: {
    description: 'Event Grid dead-lettered upload events it could not put on the upload queue: those uploads are processed only by the recheck sweep or a replay.'
    severity: 2
    enabled: true
    scopes: [
      mediaEvents.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'deadLettered'
          metricNamespace: 'Microsoft.EventGrid/systemTopics'
          metricName: 'DeadLetteredCount'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// The availability test has no token to send, so it calls /health/ready, which needs none.
resource readyTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: '${namePrefix}-health-ready'
  location: location
  tags: union(tags, {
    'hidden-link:${appInsights.id}': 'Resource'
  })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: '${namePrefix}-health-ready'
    Name: '${namePrefix} /health/ready'
    Description: 'Every container the API uses answers reads; called every 5 minutes from five locations.'
    Enabled: true
    Frequency: 300
    Timeout: 30
    Kind: 'standard'
    RetryEnabled: true
    Locations: [
      {
        Id: 'emea-ru-msa-edge' // UK South
      }
      {
        Id: 'emea-se-sto-edge' // UK West
      }
      {
        Id: 'emea-gb-db3-azr' // North Europe
      }
      {
        Id: 'emea-nl-ams-azr' // West Europe
      }
      {
        Id: 'emea-ch-zrh-edge' // France South
      }
    ]
    Request: {
      RequestUrl: 'https://${functionHostName}/api/v1/health/ready'
      HttpVerb: 'GET'
      ParseDependentRequests: false
      FollowRedirects: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 14
    }
  }
}

resource readyUnavailable 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-health-ready-failing'
  location: 'global'
  tags: tags
  properties: {
    description: '/health/ready failed from 2 or more of its 5 test locations: the API cannot reach Cosmos DB or Blob Storage, or is down.'
    severity: 1
    enabled: true
    scopes: [
      readyTest.id
      appInsights.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: readyTest.id
      componentId: appInsights.id
      failedLocationCount: 2
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

@description('Resource id of the on-call action group.')
output actionGroupId string = actionGroup.id
