"""The pictures a user opens first: a CloudWatch dashboard and a Security Hub CSPM insight.

Why: on day one the questions are "is it running, what did it find, did it change
anything", and the answers should be one click from the stack's Outputs, not a
metric search. The dashboard shows the auditor's own EMF metrics (published by
``handler.record_metrics`` with Powertools' default ``service`` dimension) next to
the function's Lambda metrics; the insight groups our FAILED findings by the
cluster's region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from aws_cdk import Aws, CfnCondition, Duration, Fn, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_securityhub as securityhub
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from eks_netpol_auditor.names import METRICS_NAMESPACE, PRODUCT
from eks_netpol_auditor.securityhub.asff import GENERATOR_ID

# Powertools Metrics adds a "service" dimension (POWERTOOLS_SERVICE_NAME) to every metric.
SERVICE_DIMENSION = {"service": PRODUCT}
PERIOD = Duration.hours(1)
WIDGET_WIDTH = 12

# (title, [(metric name, statistic)]) per graph; names as handler.record_metrics emits them.
DASHBOARD_GRAPHS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Clusters by status (last run in each hour)",
        (
            ("ClustersPassed", "Maximum"),
            ("ClustersFailed", "Maximum"),
            ("ClustersWarning", "Maximum"),
            ("ClustersNotAvailable", "Maximum"),
        ),
    ),
    (
        "Remediations",
        (
            ("RemediationsApplied", "Sum"),
            ("RemediationsDeferred", "Sum"),
            ("RemediationsFailed", "Sum"),
        ),
    ),
    (
        "Errors",
        (
            ("Errors", "Sum"),
            ("RegionsFailed", "Sum"),
            ("FindingsFailed", "Sum"),
            ("InvocationsRejected", "Sum"),
            ("RunsAborted", "Sum"),
        ),
    ),
    ("Findings published", (("FindingsPublished", "Sum"),)),
    ("Run duration (seconds)", (("DurationSeconds", "Maximum"),)),
)

# Console host per partition (the console URL differs in China and GovCloud).
CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def auditor_metric(name: str, statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=SERVICE_DIMENSION,
        statistic=statistic,
        period=PERIOD,
    )


def findings_search_fragment() -> str:
    """Console fragment listing our findings of both controls: ProductName EQUALS ours
    (each control has its own GeneratorId; the product name is common to both and set by
    nobody else, asff.build_finding).

    The Security Hub CSPM console's search syntax is not documented; this is the form
    the console itself writes into the address bar (values URL-encoded twice).
    """
    value = quote(quote(PRODUCT, safe=""), safe="")
    return f"#/findings?search=ProductName%3D%255Coperator%255C%253AEQUALS%255C%253A{value}"


class OperationsViews(Construct):
    """Dashboard and insight, plus console URLs for the stack's Outputs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        insight_condition: CfnCondition,
        events: EventViews,
    ) -> None:
        super().__init__(scope, construct_id)
        self._host = self._console_host()
        self.dashboard = self._dashboard(function, events)
        self.insight = securityhub.CfnInsight(
            self,
            "FailedByRegion",
            name=f"{PRODUCT}: clusters without network policy enforcement, by region",
            group_by_attribute="ResourceRegion",
            filters=securityhub.CfnInsight.AwsSecurityFindingFiltersProperty(
                generator_id=[_equals(GENERATOR_ID)],
                compliance_status=[_equals("FAILED")],
                record_state=[_equals("ACTIVE")],
            ),
        )
        # Only with CreateInsight=true (infra.parameters: creating it fails where Security
        # Hub CSPM is not enabled).
        self.insight.cfn_options.condition = insight_condition

    def _console_host(self) -> str:
        """The console's host name in this stack's partition (mapping keys cannot hold
        the partitions' hyphens, so conditions choose)."""
        host = CONSOLE_HOSTS["aws"]
        for partition in ("aws-cn", "aws-us-gov"):
            condition = CfnCondition(
                self,
                f"In{partition.title().replace('-', '')}",
                expression=Fn.condition_equals(Aws.PARTITION, partition),
            )
            host = Token.as_string(
                Fn.condition_if(condition.logical_id, CONSOLE_HOSTS[partition], host)
            )
        return host

    def _dashboard(self, function: lambda_.IFunction, events: EventViews) -> cloudwatch.Dashboard:
        """The auditor's graphs, then the event path's, which exist only with
        EventDrivenMode: their part of the body is an Fn::If, since an unconditional
        dashboard cannot name the event function or queue when they do not exist."""
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title=title,
                left=[auditor_metric(name, statistic) for name, statistic in metrics],
                width=WIDGET_WIDTH,
            )
            for title, metrics in DASHBOARD_GRAPHS
        ]
        widgets.append(
            cloudwatch.GraphWidget(
                title="Function errors and throttles",
                left=[
                    function.metric_errors(period=PERIOD, statistic="Sum"),
                    function.metric_throttles(period=PERIOD, statistic="Sum"),
                ],
                width=WIDGET_WIDTH,
            )
        )
        event_widgets = _event_widgets(events)
        # The layout cloudwatch.Dashboard.add_widgets makes: rows stacked in a column.
        # (Row implements IWidget in jsii; the Python typing does not declare it.)
        rows = [cast("cloudwatch.IWidget", cloudwatch.Row(*w)) for w in (widgets, event_widgets)]
        column = cloudwatch.Column(*rows)
        column.position(0, 0)
        placed = column.to_json()
        stack = Stack.of(self)

        def joined(parts: list[Any]) -> str:
            return Fn.join(",", [stack.to_json_string(part) for part in parts])

        body = Fn.join(
            "",
            [
                '{"start":"-P7D","widgets":[',
                joined(placed[: len(widgets)]),
                Token.as_string(
                    Fn.condition_if(
                        events.condition.logical_id,
                        Fn.join("", [",", joined(placed[len(widgets) :])]),
                        "",
                    )
                ),
                "]}",
            ],
        )
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        cfn_dashboard = dashboard.node.default_child
        assert isinstance(cfn_dashboard, cloudwatch.CfnDashboard)
        cfn_dashboard.add_property_override("DashboardBody", body)
        return dashboard

    def dashboard_url(self) -> str:
        return Fn.join(
            "",
            [
                "https://",
                self._host,
                f"/cloudwatch/home?region={Aws.REGION}#dashboards/dashboard/",
                self.dashboard.dashboard_name,
            ],
        )

    def insight_url(self) -> str:
        return Fn.join(
            "",
            [
                "https://",
                self._host,
                f"/securityhub/home?region={Aws.REGION}#/insights/",
                self.insight.attr_insight_arn,
            ],
        )

    def findings_url(self, region: str) -> str:
        return Fn.join(
            "",
            [
                "https://",
                self._host,
                "/securityhub/home?region=",
                region,
                findings_search_fragment(),
            ],
        )


@dataclass(frozen=True)
class EventViews:
    """What the dashboard shows of the event path (``infra.event_path``), and the
    condition under which it exists (EventDrivenMode)."""

    function: lambda_.IFunction
    queue: sqs.IQueue
    condition: CfnCondition


# The graph that answers "has any EKS change event arrived?": every event a rule matched
# (in this region, or forwarded from another) is one message sent to the event queue.
EVENTS_RECEIVED_TITLE = "EKS change events received (0 for days: see the CloudTrail prerequisite)"


def _event_widgets(events: EventViews) -> list[cloudwatch.IWidget]:
    """The event function's Lambda metrics and the event queue's traffic and backlog age."""
    function, queue = events.function, events.queue
    return [
        cloudwatch.GraphWidget(
            title=EVENTS_RECEIVED_TITLE,
            left=[queue.metric_number_of_messages_sent(period=PERIOD, statistic="Sum")],
            width=WIDGET_WIDTH,
        ),
        cloudwatch.GraphWidget(
            title="Event queue: age of the oldest event (seconds)",
            left=[
                queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum")
            ],
            width=WIDGET_WIDTH,
        ),
        cloudwatch.GraphWidget(
            title="Event function: invocations, errors and throttles",
            left=[
                function.metric_invocations(period=PERIOD, statistic="Sum"),
                function.metric_errors(period=PERIOD, statistic="Sum"),
                function.metric_throttles(period=PERIOD, statistic="Sum"),
            ],
            width=WIDGET_WIDTH,
        ),
        cloudwatch.GraphWidget(
            title="Event function: duration (milliseconds)",
            left=[function.metric_duration(period=PERIOD, statistic="Maximum")],
            width=WIDGET_WIDTH,
        ),
    ]


def _equals(value: str) -> securityhub.CfnInsight.StringFilterProperty:
    return securityhub.CfnInsight.StringFilterProperty(comparison="EQUALS", value=value)
