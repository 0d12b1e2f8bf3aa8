"""A small evaluator of CloudFormation intrinsics, for tests of what a deployment would get.

Why: the organization template's behaviour lives in conditions (``Fn::If`` on parameter
values); asserting on the raw JSON would only restate it. This resolves a template the
way CloudFormation would for given parameter values and pseudo parameters, for the
intrinsics our templates use, and fails loudly on any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()

Json = dict[str, Any]


@dataclass
class Deployment:
    """One deployment of ``template``: parameter values plus pseudo parameters."""

    template: Json
    parameters: dict[str, str] = field(default_factory=dict)
    account: str = "111111111111"
    region: str = "eu-west-1"
    stack_name: str = "Stack"

    def parameter(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template["Resources"]:
            return f"<{name}>"  # a resource's physical id, unknown before deployment
        if name in self.parameters:
            value: Any = self.parameters[name]
        else:
            definition = self.template["Parameters"][name]
            if "Default" not in definition:
                msg = f"parameter {name} has no default and no value"
                raise KeyError(msg)
            value = definition["Default"]
        if self.template["Parameters"][name]["Type"] == "CommaDelimitedList":
            return str(value).split(",")
        return str(value)

    def condition(self, name: str) -> bool:
        result = self.resolve(self.template["Conditions"][name])
        assert isinstance(result, bool)
        return result

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            resolved = [self.resolve(n) for n in node]
            return [i for i in resolved if i is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(key, arg)] = node.items()
            if key == "Ref":
                return self.parameter(arg)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                left, right = (self.resolve(a) for a in arg)
                return left == right
            if key == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(p) for p in self.resolve(parts))
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::GetAtt":
                return f"<{arg[0]}.{arg[1]}>"
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                msg = f"intrinsic {key} not supported by the test evaluator"
                raise NotImplementedError(msg)
        items = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in items.items() if v is not NO_VALUE}

    def _sub(self, text: str) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.parameter(m.group(1))), text)

    def rule_failures(self) -> list[str]:
        """The ``AssertDescription`` of every Rules assertion these values fail: the
        stack would not be created or updated ("CloudFormation template Rules syntax")."""
        failures = []
        for rule in self.template.get("Rules", {}).values():
            if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"]):
                continue
            failures += [
                assertion["AssertDescription"]
                for assertion in rule["Assertions"]
                if not self.resolve(assertion["Assert"])
            ]
        return failures

    def resources(self) -> dict[str, Json]:
        """The resources that exist in this deployment, resolved."""
        return {
            logical_id: self.resolve(resource)
            for logical_id, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }
