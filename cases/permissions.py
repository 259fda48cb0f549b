"""Who may take which step of the case loop 案件流程, in which state, on which target.

Every rule of the loop is a ``check_*`` function here, beside its action in ``cases.services``
(which calls it before and again inside its transaction, on the locked row). A check raises
``PermissionDenied`` (role or scope), ``ValidationError`` (a bad target) or ``ActionRefused``
(the state); pages and the API only translate those. ``allowed_actions`` answers from the same
checks which buttons a page shows and which steps the API lists.
"""

from collections.abc import Callable, Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError

from org.errors import ActionRefused
from org.models import Grid, Region, Role, Unit, User
from org.scope import scope_for

from .models import Case, CasePart, ExtensionRequest, FieldCheck

REPORT_ROLES = (Role.COLLECTOR, Role.STREET_CHIEF, Role.INSPECTOR, Role.DISPATCHER, Role.HQ_ADMIN)
COMMAND_ROLES = (Role.DISPATCHER, Role.HQ_ADMIN)
UNIT_ROLES = (Role.HANDLER,)
# Who reads the monthly summary and the metrics (within their scope).
FIGURE_ROLES = (Role.HQ_ADMIN, Role.DISPATCHER, Role.LEADER, Role.INSPECTOR)
OPEN_PART = (CasePart.Status.DISPATCHED, CasePart.Status.HANDLING)


def _acting(user: User | None, roles: Sequence[str]) -> tuple[str, int | None]:
    """The role (and the unit it is held in) with which ``user`` may act, or PermissionDenied."""
    if user is None:
        raise PermissionDenied("请先登录")
    scope = scope_for(user)
    for held_unit, held_roles in sorted(scope.unit_roles.items()):
        for role in roles:
            if role in held_roles:
                return role, held_unit
    if user.is_superuser:
        return roles[0], None
    raise PermissionDenied("您没有执行此操作的角色或权限范围")


def _may_report_at(user: User, unit_id: int | None, region: Region, grid: Grid | None) -> bool:
    """A reporter works their own patch: what their scope opens, their grids, or the territory of
    the community or street whose collector or street chief they are."""
    scope = scope_for(user)
    if scope.allows_region(region) or (grid is not None and grid.pk in scope.grid_ids):
        return True
    unit = Unit.objects.select_related("region").filter(pk=unit_id).first() if unit_id else None
    return unit is not None and unit.is_territorial and region.path.startswith(unit.region.path)


def _command(user: User | None) -> tuple[str, int | None]:
    return _acting(user, COMMAND_ROLES)


class PartChoiceNeeded(ValidationError):
    """The person handles for several units of this joint case: the step needs the part named."""


def _own_part(user: User | None, case: Case, part: CasePart | None, statuses: Sequence[str]) -> CasePart:
    """The part of ``case`` the user handles for (the given one, or their only one)."""
    if user is None:
        raise PermissionDenied("请先登录")
    scope = scope_for(user)
    parts = [p for p in case.parts.all() if p.is_active and scope.acts_for(p.unit_id, *UNIT_ROLES)]
    if part is not None:
        parts = [p for p in parts if p.pk == part.pk]
    if not parts:
        raise PermissionDenied("该案件没有派给您所在的单位")
    in_state = [p for p in parts if p.status in statuses]
    if not in_state:
        raise ActionRefused("当前状态不能执行此操作")
    if len(in_state) > 1:
        raise PartChoiceNeeded("请选择以哪个责任单位的身份操作")
    return in_state[0]


def _require_status(case: Case, *statuses: str) -> None:
    if case.status not in statuses:
        raise ActionRefused(f"案件{case.get_status_display()}，不能执行此操作")


def check_accept(user: User | None, case: Case) -> tuple[str, int | None]:
    acting = _command(user)
    _require_status(case, Case.Status.REPORTED)
    return acting


def check_reclassify(user: User | None, case: Case) -> tuple[str, int | None]:
    acting = _command(user)
    if case.status not in (Case.Status.REPORTED, Case.Status.ACCEPTED, Case.Status.RETURNED):
        raise ActionRefused("案件已派遣，不能再改类别")
    return acting


def check_dispatch(user: User | None, case: Case) -> tuple[str, int | None]:
    acting = _command(user)
    _require_status(case, Case.Status.ACCEPTED, Case.Status.RETURNED)
    return acting


def check_unit_step(user: User | None, case: Case, part: CasePart | None, statuses) -> CasePart:
    _require_status(case, Case.Status.DISPATCHED, Case.Status.HANDLING)
    return _own_part(user, case, part, statuses)


def check_decide(user: User | None, case: Case) -> tuple[str, int | None]:
    acting = _command(user)
    _require_status(case, Case.Status.DISPATCHED, Case.Status.HANDLING)
    return acting


def current_field_check(case: Case) -> FieldCheck | None:
    """The field check 现场核查 of this round of handling, if the case is field-verified; from the
    prefetched ``field_checks`` when a list or detail loaded them, else one query."""
    if "field_checks" in getattr(case, "_prefetched_objects_cache", {}):
        return next((c for c in case.field_checks.all() if c.round == case.rework_count), None)
    return FieldCheck.objects.filter(case=case, round=case.rework_count).first()


def _check_desk_step(case: Case, *, closing: bool) -> None:
    """A field-verified case waits for its verifier; a failed check is reworked, never closed."""
    check = current_field_check(case)
    if check is None:
        return
    if check.status == FieldCheck.Status.PENDING:
        raise ActionRefused("等待现场核查：核查人到现场拍照核查后才能结案或返工")
    if closing and check.status == FieldCheck.Status.FAILED:
        raise ActionRefused("现场核查未通过，请返工")


def check_verify(user: User | None, case: Case) -> tuple[str, int | None]:
    """核查结案: desk verification, or closing after a passed field check."""
    acting = _command(user)
    _require_status(case, Case.Status.HANDLED)
    _check_desk_step(case, closing=True)
    return acting


def check_rework(user: User | None, case: Case) -> tuple[str, int | None]:
    """返工: after desk verification, or after the field check (failed, or passed but disputed)."""
    acting = _command(user)
    _require_status(case, Case.Status.HANDLED)
    _check_desk_step(case, closing=False)
    return acting


def check_field_check(user: User | None, case: Case) -> FieldCheck:
    """现场核查: only the verifier the task went to (the grid's collector or the reporting chief),
    once per round; a desk-verified case has no field check."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    _require_status(case, Case.Status.HANDLED)
    check = current_field_check(case)
    if check is None:
        raise ActionRefused("该案件由受理员核查，无需现场核查")
    if check.verifier_id != user.pk:
        raise PermissionDenied("该案件的现场核查不是派给您的（只有所在网格的采集员或上报的街巷长可以核查）")
    if check.status != FieldCheck.Status.PENDING:
        raise ActionRefused(f"该案件本轮已核查（{check.get_status_display()}），不能重复核查")
    return check


def check_dispatch_target(units: Iterable[Unit]) -> None:
    """A case goes to units that work on it: active ones, never the campaign office itself."""
    for unit in units:
        if unit.kind == Unit.Kind.HQ:
            raise ValidationError(f"不能派给创文办（{unit.name}），请选择责任单位")
        if not unit.is_active:
            raise ValidationError(f"责任单位“{unit.name}”已停用")


def check_merge(user: User | None, case: Case, into: Case | None) -> tuple[str, int | None]:
    """合并: a reported case into another open, unmerged case the person may see."""
    acting = check_accept(user, case)
    if into is None or not Case.objects.visible_to(user).filter(pk=into.pk).exists():
        raise ValidationError("目标案件不存在或不在您的权限范围内")
    if into.pk == case.pk:
        raise ValidationError("不能合并到案件自身")
    if not into.is_open or into.merged_into_id is not None:
        raise ActionRefused(f"目标案件{into.get_status_display()}，不能合并")
    return acting


def check_view_figures(user: User | None) -> None:
    """The monthly summary and the metrics: HQ, dispatchers, leaders and inspectors (each within
    their scope); units see their own cases in the lists."""
    _acting(user, FIGURE_ROLES)


def _has_pending_extension(case: Case) -> bool:
    """Whether a part of ``case`` has a request waiting; from the prefetched parts and their
    requests when the page or API loaded them (``prefetch_related``), else one query."""
    if "parts" in getattr(case, "_prefetched_objects_cache", {}):
        parts = case.parts.all()
        if all("extension_requests" in getattr(p, "_prefetched_objects_cache", {}) for p in parts):
            return any(
                r.status == ExtensionRequest.Status.PENDING for p in parts for r in p.extension_requests.all()
            )
    return ExtensionRequest.objects.filter(part__case=case, status=ExtensionRequest.Status.PENDING).exists()


def check_pending_extension(user: User | None, case: Case) -> tuple[str, int | None]:
    acting = check_decide(user, case)
    if not _has_pending_extension(case):
        raise ActionRefused("没有待审批的延期申请")
    return acting


CHECKS: dict[str, Callable[[User, Case], object]] = {
    "accept": check_accept,
    "reject": check_accept,
    "merge": check_accept,
    "reclassify": check_reclassify,
    "dispatch": check_dispatch,
    "decide_extension": check_pending_extension,
    "verify": check_verify,
    "rework": check_rework,
    "field_check": check_field_check,
    "start": lambda u, c: check_unit_step(u, c, None, (CasePart.Status.DISPATCHED,)),
    "return": lambda u, c: check_unit_step(u, c, None, OPEN_PART),
    "request_extension": lambda u, c: check_unit_step(u, c, None, OPEN_PART),
    "handle": lambda u, c: check_unit_step(u, c, None, OPEN_PART),
}


def allowed_actions(user: User, case: Case) -> list[str]:
    """The steps ``user`` may take on ``case`` now, in the order of the loop."""
    allowed = []
    for name, check in CHECKS.items():
        try:
            check(user, case)
        except PartChoiceNeeded:
            pass  # allowed, once the person says for which of their units (the page asks)
        except (PermissionDenied, ActionRefused, ValidationError):
            continue
        allowed.append(name)
    return allowed
