from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.urls import path
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenVerifyView


class RegisterSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "password", "email"]

    def validate(self, attrs):
        validate_password(attrs["password"], get_user_model()(username=attrs["username"]))
        return attrs

    def create(self, data):
        return get_user_model().objects.create_user(**data)


class Register(APIView):
    permission_classes = [permissions.AllowAny]

    def post(self, request):
        s = RegisterSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        s.save()
        return Response(s.data, status=status.HTTP_201_CREATED)


class Protected(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request):
        return Response({"message": "ok", "user": {"id": request.user.id, "username": request.user.username}})


urlpatterns = [
    path("register/", Register.as_view()),
    path("api/token/", TokenObtainPairView.as_view()),
    path("api/token/refresh/", TokenRefreshView.as_view()),
    path("api/token/verify/", TokenVerifyView.as_view()),
    path("protected-resource/", Protected.as_view()),
]
