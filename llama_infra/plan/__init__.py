"""`llama-infra plan`: run the stacks program offline under Pulumi's mocks and report what it would create.

`plan_stacks(...)` returns data (`StackPlan`s, JSON-ready through `to_dict`), so other commands (e.g. a diff of two
plans) reuse the engine; `render` prints it with rich.
"""

from llama_infra.plan.engine import PlanError, StackPlan, plan_stack, plan_stacks, stack_names

__all__ = ["PlanError", "StackPlan", "plan_stack", "plan_stacks", "stack_names"]
