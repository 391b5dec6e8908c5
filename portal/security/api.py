"""/api/tokens/: the caller's API tokens, listed, created (the secret answered once) and revoked."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from portal.api.views import service_errors
from portal.security import tokens
from portal.security.models import ApiToken


class TokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "active"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, help_text=_("The client that will use the token."))
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650,
                                    help_text=_("Days until it expires; at most API_TOKEN_DAYS, which is the default."))


class CreatedTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text=_("The secret: shown this once, never again."))

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class MayHoldTokens(BasePermission):
    def has_permission(self, request, view) -> bool:
        return tokens.may_hold_tokens(request.user)


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                   viewsets.GenericViewSet):
    """The caller's own tokens; DELETE revokes (the row stays, marked revoked). A token cannot make
    another: creating one needs a signed-in session."""

    serializer_class = TokenSerializer
    permission_classes = [MayHoldTokens]
    filterset_class = None
    filter_backends = []

    def get_queryset(self):
        return tokens.tokens_visible_to(self.request.user)

    @extend_schema(request=TokenCreateSerializer, responses={201: CreatedTokenSerializer})
    def create(self, request):
        if isinstance(request.auth, ApiToken):
            return Response({"detail": _("A token cannot create another token; sign in to the portal.")},
                            status=status.HTTP_403_FORBIDDEN)
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            token, secret = tokens.token_create(user=request.user, **data.validated_data)
        token.token = secret
        return Response(CreatedTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        tokens.token_revoke(user=self.request.user, token=instance)
